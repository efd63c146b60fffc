export interface AggregationMemoryResult { ratio: number, settings: any }
export async function measureAggregationMemory (progress: (line: string) => void): Promise<AggregationMemoryResult> {
  throw new Error('not yet')
}
