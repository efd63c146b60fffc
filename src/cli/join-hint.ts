/**
 * Which of a seed's addresses to print in its "others join with" hint:
 * addresses other devices can dial (not loopback, not IPv6 link-local, not
 * relayed), and the loopback ones only when there is nothing else.
 */

export interface JoinAddresses {
  /** Full multiaddrs (with `/p2p/<id>`) to give other nodes, best first. */
  addresses: string[]
  /** True when only loopback addresses exist: only processes on this machine can join. */
  loopbackOnly: boolean
}

function isLoopback (addr: string): boolean {
  return /^\/ip4\/127\./.test(addr) || /^\/ip6\/::1\//.test(addr) || /^\/dns[46]?\/localhost\//.test(addr)
}

function isUnusable (addr: string): boolean {
  return /^\/ip6\/fe80:/i.test(addr) || addr.includes('/p2p-circuit') || /^\/ip4\/0\.0\.0\.0\//.test(addr) || /^\/ip6\/::\//.test(addr)
}

/** Split `addresses` (as `node.addresses()` lists them) into those for other devices, or loopback as a fallback. */
export function joinAddresses (addresses: string[]): JoinAddresses {
  const usable = addresses.filter(a => !isUnusable(a))
  const remote = usable.filter(a => !isLoopback(a))
  // IPv4 first: the address most users can type and most networks route.
  const ordered = (list: string[]): string[] => [...list.filter(a => a.startsWith('/ip4/')), ...list.filter(a => !a.startsWith('/ip4/'))]
  if (remote.length > 0) return { addresses: ordered(remote), loopbackOnly: false }
  return { addresses: ordered(usable.filter(isLoopback)), loopbackOnly: true }
}

/** The hint's lines for a seed's start-up message. */
export function joinHintLines (addresses: string[]): string[] {
  const join = joinAddresses(addresses)
  if (join.addresses.length === 0) return ['  others join with: edge-mesh start --bootstrap <address of this seed>']
  const [first, ...rest] = join.addresses
  return [
    `  others join with: edge-mesh start --bootstrap ${first}`,
    ...rest.map(a => `                or: edge-mesh start --bootstrap ${a}`),
    ...(join.loopbackOnly
      ? ['  (loopback only: this seed listens on no other network interface, so only nodes on this machine can join;',
          '   listen on 0.0.0.0 or a LAN address with --listen /ip4/0.0.0.0/tcp/4010 to let other devices join)']
      : [])
  ]
}
