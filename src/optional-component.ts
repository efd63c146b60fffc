/**
 * libp2p's components object throws `MissingServiceError` when a service that
 * was not configured is read. Capabilities that can work without a
 * collaborator (gossip without models, the API without offload) read it
 * through this helper, which returns `undefined` instead.
 */
export function optionalComponent<T> (components: object, name: string): T | undefined {
  try {
    return (components as Record<string, T | undefined>)[name]
  } catch {
    return undefined
  }
}
