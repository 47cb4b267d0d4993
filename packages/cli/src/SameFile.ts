/**
 * Whether two paths name one file, however they are spelled: `./a/../x`, a symbolic link, a hard
 * link. A path that does not exist yet is compared by its real directory and its name.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Path from "node:path"

interface Identity {
  readonly real: string
  readonly inode: string | undefined
}

const identify = (path: string): Identity => {
  const absolute = Path.resolve(path)
  const stat = Fs.statSync(absolute, { throwIfNoEntry: false })
  if (stat !== undefined) return { real: Fs.realpathSync(absolute), inode: `${stat.dev}:${stat.ino}` }
  const parent = Path.dirname(absolute)
  const real = Fs.existsSync(parent) ? Path.join(Fs.realpathSync(parent), Path.basename(absolute)) : absolute
  return { real, inode: undefined }
}

/**
 * True when `a` and `b` are the same file (or would be, once created).
 *
 * @since 0.1.0
 */
export const sameFile = (a: string, b: string): boolean => {
  const x = identify(a)
  const y = identify(b)
  return x.real === y.real || (x.inode !== undefined && x.inode === y.inode)
}
