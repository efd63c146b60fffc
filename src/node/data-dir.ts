/**
 * Where a node keeps its state by default: the user's data directory, as
 * other desktop daemons do (Syncthing, IPFS use a folder in `$HOME`), never
 * the working directory, so a checkout that is copied, zipped or committed
 * does not carry the node's private key with it.
 *
 * - Linux and others: `$XDG_DATA_HOME/edge-mesh`, else `~/.local/share/edge-mesh`;
 * - macOS: `~/Library/Application Support/edge-mesh`;
 * - Windows: `%LOCALAPPDATA%\edge-mesh`.
 *
 * `EDGE_MESH_DATA_DIR` / `--data-dir` still choose any folder.
 */
import { homedir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_DATA_ROOT } from './constants.js'

export function defaultDataRoot (env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home: string = homedir()): string {
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), DEFAULT_DATA_ROOT)
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', DEFAULT_DATA_ROOT)
  const xdg = env.XDG_DATA_HOME
  return join(xdg != null && xdg.startsWith('/') ? xdg : join(home, '.local', 'share'), DEFAULT_DATA_ROOT)
}
