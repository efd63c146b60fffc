import { describe, expect, it } from 'vitest'
import { PeerBusyError } from '../../../src/errors.js'
import { OffloadClient } from '../../../src/offload/client.js'
import type { Candidate } from '../../../src/offload/scheduler.js'
import type { ServedResult } from '../../../src/offload/types.js'
import type { TensorData } from '../../../src/model/types.js'

const input: TensorData[] = [{ shape: [1, 2], dtype: 'float32', data: new Float32Array([1, 2]) }]
const served: ServedResult = { outputs: [{ shape: [1, 1], dtype: 'float32', data: new Float32Array([1]) }], queueMs: 0, computeMs: 1, batchSize: 1 }

function cand (peerId: string, local = false): Candidate {
  return { peerId, local, hasModel: true, inFlight: 0, queued: 0, capacity: 1, cpu: 0, training: false }
}

/** A client over `self` and peer `b` that counts how often it asks for the candidates; `b` answers with `remote`. */
function counting (remote: () => Promise<ServedResult>): { client: OffloadClient, builds: () => number } {
  let builds = 0
  const client = new OffloadClient({
    selfId: 'self',
    local: async () => served,
    remote,
    candidates: () => { builds++; return [cand('self', true), cand('b')] },
    random: () => 0.5,
    config: { hedging: false }
  })
  return { client, builds: () => builds }
}

describe('offload client candidates', () => {
  it('builds the candidate list once for a request answered at its first attempt', async () => {
    for (const prefer of ['auto', 'remote', 'local'] as const) {
      const { client, builds } = counting(async () => served)
      await client.infer('m', input, { prefer })
      expect(builds()).toBe(1)
    }
  })

  it('builds it again for a retry, which sees the load as it is then', async () => {
    const { client, builds } = counting(async () => { throw new PeerBusyError('full') })
    const result = await client.infer('m', input, { prefer: 'remote' })
    expect(result.servedBy).toBe('self')
    expect(builds()).toBe(2)
  })
})
