/**
 * Address ranges a node may dial because a gossiped report said so. Load
 * reports carry addresses chosen by their sender; without a limit a hostile
 * sender could make every node dial any host. With `dialRanges` set, only
 * addresses inside the listed CIDR blocks are dialled from gossip.
 */
import { BlockList, isIP } from 'node:net'
import { InvalidConfigError } from '../errors.js'

export interface AddressFilter {
  /** True when the multiaddr may be dialled from gossip. */
  allows(multiaddr: string): boolean
}

/** Build a filter from CIDR strings (`10.0.0.0/8`, `fd00::/8`); an empty list allows every address. */
export function dialRangeFilter (ranges: string[]): AddressFilter {
  if (ranges.length === 0) return { allows: () => true }
  const list = new BlockList()
  for (const range of ranges) {
    const [address, bits] = range.split('/')
    const family = isIP(address)
    const prefix = Number(bits)
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
      throw new InvalidConfigError(`dialRanges: "${range}" is not a CIDR block such as 192.168.1.0/24`)
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6')
  }
  return {
    allows (multiaddr: string): boolean {
      const match = /^\/(ip4|ip6)\/([^/]+)\//.exec(multiaddr + '/')
      if (match == null) return false
      return list.check(match[2], match[1] === 'ip4' ? 'ipv4' : 'ipv6')
    }
  }
}
