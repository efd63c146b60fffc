import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadDatasetDir, loadMnist, sliceDataset, subsetDataset } from '../../../src/model/datasets.js'

describe('datasets', () => {
  let tmp: string
  beforeAll(async () => { tmp = await mkdtemp(path.join(tmpdir(), 'edge-mesh-data-')) })
  afterAll(async () => { await rm(tmp, { recursive: true, force: true }) })

  async function dir (name: string, files: Record<string, string>): Promise<string> {
    const d = path.join(tmp, name)
    await mkdir(d, { recursive: true })
    for (const [file, text] of Object.entries(files)) await writeFile(path.join(d, file), text)
    return d
  }

  it('loads the 10,000 mnist digits as 784 pixels in 0..1, in a fixed mixed order', () => {
    const ds = loadMnist()
    expect(ds.count).toBe(10000)
    expect(ds.featureShape).toEqual([784])
    expect(ds.numClasses).toBe(10)
    expect(ds.x.length).toBe(10000 * 784)
    expect(ds.y.length).toBe(10000)
    expect(Math.min(...ds.x.subarray(0, 78400))).toBeGreaterThanOrEqual(0)
    expect(Math.max(...ds.x.subarray(0, 78400))).toBeLessThanOrEqual(1)
    const again = loadMnist()
    expect(again.y).toEqual(ds.y)
    expect(again.x).not.toBe(ds.x)
    const firstThousand = new Set(ds.y.subarray(0, 1000))
    expect(firstThousand.size).toBe(10)
    const counts = new Array(10).fill(0)
    ds.y.forEach((label) => { counts[label]++ })
    expect(counts.reduce((a, b) => a + b)).toBe(10000)
    expect(Math.min(...counts)).toBeGreaterThan(800)
  })

  it('slices and subsets', () => {
    const ds = loadMnist()
    const s = sliceDataset(ds, 10, 20)
    expect(s.count).toBe(10)
    expect(s.y).toEqual(ds.y.slice(10, 20))
    expect(s.x).toEqual(ds.x.slice(10 * 784, 20 * 784))
    expect(sliceDataset(ds, 9990, 20000).count).toBe(10)
    const sub = subsetDataset(ds, [5, 1, 5])
    expect(Array.from(sub.y)).toEqual([ds.y[5], ds.y[1], ds.y[5]])
    expect(sub.x.subarray(784, 1568)).toEqual(ds.x.subarray(784, 1568))
    expect(() => subsetDataset(ds, [10000])).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
  })

  it('reads data.csv with and without a header', async () => {
    const withHeader = await loadDatasetDir(await dir('csv1', { 'data.csv': 'label,a,b,c\n1,0.5,1,2\n0,3,4,5\n\n2,6,7,8\n' }))
    expect(withHeader.count).toBe(3)
    expect(withHeader.featureShape).toEqual([3])
    expect(withHeader.numClasses).toBe(3)
    expect(Array.from(withHeader.y)).toEqual([1, 0, 2])
    expect(Array.from(withHeader.x)).toEqual([0.5, 1, 2, 3, 4, 5, 6, 7, 8])
    const bare = await loadDatasetDir(await dir('csv2', { 'data.csv': '1,0.5\r\n0,0.25\r\n' }))
    expect(bare.count).toBe(2)
    expect(Array.from(bare.x)).toEqual([0.5, 0.25])
  })

  it('reads data.json', async () => {
    const ds = await loadDatasetDir(await dir('json', {
      'data.json': JSON.stringify({ featureShape: [2, 2], numClasses: 4, x: [[[1, 2], [3, 4]], [5, 6, 7, 8]], y: [3, 0] })
    }))
    expect(ds.count).toBe(2)
    expect(ds.featureShape).toEqual([2, 2])
    expect(ds.numClasses).toBe(4)
    expect(Array.from(ds.x)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(Array.from(ds.y)).toEqual([3, 0])
  })

  it('rejects bad files with InvalidConfigError', async () => {
    const bad = async (files: Record<string, string>, name: string): Promise<any> => loadDatasetDir(await dir(name, files)).catch((e) => e)
    expect((await bad({}, 'empty')).name).toBe('InvalidConfigError')
    const ragged = await bad({ 'data.csv': '1,2,3\n0,1\n' }, 'ragged')
    expect(ragged.name).toBe('InvalidConfigError')
    expect(ragged.message).toContain('line 2')
    expect((await bad({ 'data.csv': '1,2\nx,3\n' }, 'label')).name).toBe('InvalidConfigError')
    expect((await bad({ 'data.csv': '1,2\n0,abc\n' }, 'feature')).name).toBe('InvalidConfigError')
    expect((await bad({ 'data.csv': '-1,2\n' }, 'negative')).name).toBe('InvalidConfigError')
    expect((await bad({ 'data.json': '{ broken' }, 'json1')).name).toBe('InvalidConfigError')
    expect((await bad({ 'data.json': JSON.stringify({ featureShape: [2], numClasses: 2, x: [[1, 2]], y: [2] }) }, 'json2')).name).toBe('InvalidConfigError')
    expect((await bad({ 'data.json': JSON.stringify({ featureShape: [2], numClasses: 2, x: [[1]], y: [0] }) }, 'json3')).name).toBe('InvalidConfigError')
    expect((await bad({ 'data.json': JSON.stringify({ featureShape: [2], numClasses: 2, x: [[1, 2]], y: [] }) }, 'json4')).name).toBe('InvalidConfigError')
  })
})
