/**
 * Checkpoints of a federated run: the run state as JSON plus the global
 * weights in the binary weight-record codec. `FileCheckpointStore` writes
 * both atomically (temporary file, fsync, rename): the weights go to a file
 * named after the round first, then `state.json` is replaced to point at it,
 * then older weight files are removed. A crash at any moment leaves either the
 * previous or the new checkpoint readable, never a mix.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '../atomic-write.js'
import { logger } from '@libp2p/logger'
import { InvalidConfigError } from '../errors.js'
import { decodeWeightRecord, encodeWeightRecord } from './weights/codec.js'
import type { RoundRecord } from './run-types.js'
import type { AbortOptions, Logger } from '@libp2p/interface'
import type { WeightRecord } from '../model/types.js'

/** The JSON part of a checkpoint. */
export interface CheckpointState {
  /** Format version of this JSON. */
  version: 1
  /** Rounds completed so far; the run resumes at `completedRounds + 1`. */
  completedRounds: number
  /** Aggregations that produced the saved weights. */
  modelVersion: number
  /** Content id of the saved global model. */
  globalModelId: string
  /** State of the run's RNG after the last completed round. */
  rngState: number
  /** Every completed round's record. */
  records: RoundRecord[]
}

export interface Checkpoint {
  state: CheckpointState
  weights: WeightRecord
}

/** Where `runFederated` saves and finds checkpoints. */
export interface CheckpointStore {
  /** The latest complete checkpoint, or undefined when there is none. */
  load(options?: AbortOptions): Promise<Checkpoint | undefined>
  /** Save a checkpoint atomically. */
  save(checkpoint: Checkpoint, options?: AbortOptions): Promise<void>
}

const STATE_FILE = 'state.json'

function weightsFile (round: number): string {
  return `weights-${String(round).padStart(6, '0')}.bin`
}

/** Saves checkpoints as `state.json` + `weights-<round>.bin` in a directory. */
export class FileCheckpointStore implements CheckpointStore {
  private readonly log: Logger

  /** `log`: the owner's logger. @default a logger of its own (`edge-mesh:federated:checkpoint`) */
  constructor (readonly dir: string, log?: Logger) {
    this.log = log ?? logger('edge-mesh:federated:checkpoint')
  }

  async load (): Promise<Checkpoint | undefined> {
    let json: string
    try {
      json = await readFile(join(this.dir, STATE_FILE), 'utf8')
    } catch (err: any) {
      if (err?.code === 'ENOENT') return undefined
      throw err
    }
    let saved: CheckpointState & { weightsFile: string }
    try {
      saved = JSON.parse(json)
    } catch (err: any) {
      throw new InvalidConfigError(`checkpoint ${join(this.dir, STATE_FILE)} is not valid JSON: ${String(err.message)}`)
    }
    if (saved?.version !== 1 || typeof saved.weightsFile !== 'string' || !/^weights-\d+\.bin$/.test(saved.weightsFile)) {
      throw new InvalidConfigError(`checkpoint ${join(this.dir, STATE_FILE)} has an unknown format`)
    }
    const weights = decodeWeightRecord(await readFile(join(this.dir, saved.weightsFile)), { maxBytes: Number.MAX_SAFE_INTEGER })
    const { weightsFile: _, ...state } = saved
    return { state, weights }
  }

  async save (checkpoint: Checkpoint): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    const file = weightsFile(checkpoint.state.completedRounds)
    await writeFileAtomic(join(this.dir, file), encodeWeightRecord(checkpoint.weights))
    const json = JSON.stringify({ ...checkpoint.state, weightsFile: file }, null, 2)
    await writeFileAtomic(join(this.dir, STATE_FILE), json)
    for (const name of await readdir(this.dir)) {
      if (/^weights-\d+\.bin(\.tmp)?$/.test(name) && name !== file) await rm(join(this.dir, name), { force: true })
    }
    this.log('saved round %d to %s', checkpoint.state.completedRounds, this.dir)
  }
}

/** A checkpoint store in memory, for tests. */
export class MemoryCheckpointStore implements CheckpointStore {
  private latest?: Checkpoint

  async load (): Promise<Checkpoint | undefined> {
    return this.latest === undefined ? undefined : structuredClone(this.latest)
  }

  async save (checkpoint: Checkpoint): Promise<void> {
    this.latest = structuredClone(checkpoint)
  }
}
