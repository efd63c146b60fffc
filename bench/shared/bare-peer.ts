/**
 * A bare libp2p process for benchmarks: the same stack as an edge-mesh node
 * (TCP, Noise, yamux, identify) and nothing else, serving the given
 * protocols. It prints `{"event":"ready","peerId","addresses"}` on stdout and
 * stops on SIGTERM/SIGINT, so `startNodeProcess`-style launchers can drive it.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { parseArgs } from 'node:util'
import type { StreamHandler, StreamHandlerOptions } from '@libp2p/interface'

export interface BareProtocol {
  protocol: string
  handler: StreamHandler
  options: StreamHandlerOptions
}

/** Run the process; `--listen <multiaddr>` picks the address (default 127.0.0.1, a free port). */
export function runBarePeer (name: string, protocols: BareProtocol[]): void {
  const main = async (): Promise<void> => {
    const { values } = parseArgs({ options: { listen: { type: 'string', default: '/ip4/127.0.0.1/tcp/0' } } })
    const node = await createLibp2p({
      addresses: { listen: [values.listen] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify() }
    })
    for (const p of protocols) await node.handle(p.protocol, p.handler, p.options)
    const addresses = node.getMultiaddrs().map(a => a.toString())
    process.stdout.write(JSON.stringify({ event: 'ready', peerId: node.peerId.toString(), addresses }) + '\n')
    const stop = (): void => { void Promise.resolve(node.stop()).finally(() => process.exit(0)) }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
  }
  main().catch(err => {
    process.stderr.write(`${name}: ${String(err?.stack ?? err)}\n`)
    process.exit(1)
  })
}
