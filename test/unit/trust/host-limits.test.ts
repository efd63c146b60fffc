/** Per-host inbound limits: the decision and the host key of an address. */
import { describe, expect, it } from 'vitest'
import { hostKey, inboundRefusal } from '../../../src/trust/host-limits.js'

describe('inboundRefusal', () => {
  const limits = { maxPerHost: 4, maxConnections: 10, reserved: 3 }

  it('caps one host', () => {
    expect(inboundRefusal(3, 3, limits)).toBeUndefined()
    expect(inboundRefusal(4, 4, limits)).toBe('per_host')
  })

  it('keeps the last slots for hosts holding none', () => {
    expect(inboundRefusal(1, 6, limits)).toBeUndefined()
    expect(inboundRefusal(1, 7, limits)).toBe('reserve')
    expect(inboundRefusal(0, 7, limits)).toBeUndefined()
    expect(inboundRefusal(0, 9, limits)).toBeUndefined()
  })
})

describe('hostKey', () => {
  it('is the IPv4 address, or the /64 of an IPv6 one; none for relayed addresses', () => {
    expect(hostKey('/ip4/192.168.1.7/tcp/4010')).toBe('192.168.1.7')
    expect(hostKey('/ip6/2001:db8:1:2:aaaa::1/tcp/1')).toBe('2001:db8:1:2::/64')
    expect(hostKey('/ip6/2001:0db8:0001:0002:ffff::9/tcp/1')).toBe('2001:db8:1:2::/64')
    expect(hostKey('/ip6/::ffff:10.0.0.1/tcp/1')).toBe('10.0.0.1')
    expect(hostKey('/ip4/10.0.0.1/tcp/1/p2p/12D3KooW/p2p-circuit')).toBeUndefined()
    expect(hostKey('/dns4/example.com/tcp/1')).toBeUndefined()
  })
})
