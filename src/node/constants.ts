/** Defaults of a node's configuration. README "Configuration" lists the same values. */

/** Control API port of an edge node (`--api-port`); `0` picks a free one. */
export const DEFAULT_API_PORT = 7373
/** Control API port of a seed node. */
export const DEFAULT_SEED_API_PORT = 7374
/** Interface the control API binds to: loopback only, it is unauthenticated. */
export const DEFAULT_API_HOST = '127.0.0.1'
/** libp2p listen address of an edge: every interface, a free TCP port. */
export const DEFAULT_EDGE_LISTEN = '/ip4/0.0.0.0/tcp/0'
/** libp2p listen address of a seed: a fixed port so others can bootstrap from it. */
export const DEFAULT_SEED_LISTEN = '/ip4/0.0.0.0/tcp/4010'
/** Most connections a node keeps; the mesh dialer stops dialling new peers above it. */
export const DEFAULT_MAX_CONNECTIONS = 128
/**
 * Data directory root relative to the user's data directory; a node's own
 * folder is `<root>/<name>`. Not under the working directory: a copied or
 * committed checkout must not carry (and so clone) a node's private key.
 */
export const DEFAULT_DATA_ROOT = 'edge-mesh'
