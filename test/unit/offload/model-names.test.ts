/** Models by name: resolving a name in the mesh, the list and named-header wire forms. */
import { describe, expect, it } from 'vitest'
import { ModelNames, pickByName } from '../../../src/model-transfer/names.js'
import { decodeList, decodeModelHeader, decodeModelQuery, encodeFoundHeader, encodeList, encodeListRequest, encodeModelRequest } from '../../../src/model-transfer/wire.js'

const A = `sha256-${'a'.repeat(64)}`
const B = `sha256-${'b'.repeat(64)}`
const C = `sha256-${'c'.repeat(64)}`

function errorOf (fn: () => unknown): any {
  try { fn() } catch (err) { return err }
  throw new Error('did not throw')
}

describe('pickByName', () => {
  const known = new Map([[A, 'mnist-mlp'], [B, 'mnist-mlp'], [C, 'digits']])

  it('resolves a unique name, refuses an ambiguous or unknown one', () => {
    expect(pickByName('digits', known)).toBe(C)
    const ambiguous = errorOf(() => pickByName('mnist-mlp', known))
    expect(ambiguous.name).toBe('AmbiguousModelNameError')
    expect(ambiguous.candidates).toEqual([A, B])
    expect(ambiguous.message).toContain(A)
    expect(errorOf(() => pickByName('nope', known)).name).toBe('ModelNotFoundError')
  })
})

describe('ModelNames', () => {
  function names (lists: Record<string, Array<{ id: string, name: string }>>, local = [{ id: A, name: 'mnist-mlp' }]): { names: ModelNames, asked: string[] } {
    const asked: string[] = []
    const announced = Object.entries(lists).map(([peerId, models]) => ({ peerId, models: models.map(m => m.id) }))
    return {
      asked,
      names: new ModelNames({
        local: () => local,
        announced: () => announced,
        list: async (peerId) => { asked.push(peerId); if (peerId === 'down') throw new Error('unreachable'); return lists[peerId] }
      })
    }
  }

  it('passes content ids through without asking anyone', async () => {
    const { names: n, asked } = names({ p1: [{ id: C, name: 'digits' }] })
    expect(await n.resolve(B)).toBe(B)
    expect(asked).toEqual([])
  })

  it('asks the peers that announce unnamed ids, once', async () => {
    const { names: n, asked } = names({ p1: [{ id: C, name: 'digits' }], down: [{ id: B, name: 'x' }] })
    expect(await n.resolve('digits')).toBe(C)
    expect(await n.resolve('mnist-mlp')).toBe(A)
    expect(asked.filter(p => p === 'p1')).toEqual(['p1'])
    expect(n.nameOf(C)).toBe('digits')
  })

  it('finds a name held here and by a peer for two different models ambiguous', async () => {
    const { names: n } = names({ p1: [{ id: B, name: 'mnist-mlp' }] })
    await expect(n.resolve('mnist-mlp')).rejects.toMatchObject({ name: 'AmbiguousModelNameError', candidates: [A, B] })
  })
})

describe('model wire: names', () => {
  it('carries an optional name in the found header', () => {
    expect(decodeModelHeader(encodeFoundHeader(1, 2, 'mnist-mlp'))).toEqual({ type: 'found', modelJsonBytes: 1, weightsBytes: 2, name: 'mnist-mlp' })
    expect(decodeModelHeader(encodeFoundHeader(1, 2))).toEqual({ type: 'found', modelJsonBytes: 1, weightsBytes: 2 })
    const long = decodeModelHeader(encodeFoundHeader(1, 2, 'é'.repeat(40)))
    expect(long.type === 'found' && long.name).toBe('é'.repeat(32))
  })

  it('lists models and tells the two requests apart', () => {
    expect(decodeList(encodeList([{ id: A, name: 'mnist-mlp' }, { id: C, name: '' }]))).toEqual([{ id: A, name: 'mnist-mlp' }, { id: C, name: '' }])
    expect(decodeModelQuery(encodeListRequest())).toEqual({ type: 'list' })
    expect(decodeModelQuery(encodeModelRequest(A))).toEqual({ type: 'fetch', modelId: A })
    expect(errorOf(() => decodeList(Uint8Array.from([1, 5, 1, 0]))).name).toBe('InvalidMessageError')
  })
})
