/**
 * Whether two paths name one file, however they are spelled: `./a/../x`, a symbolic link, a hard
 * link. A path that does not exist yet is compared by its real directory and its name; a link to a
 * path that does not exist yet, by where it points.
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Path from "node:path"

interface Identity {
  readonly real: string
  readonly inode: string | undefined
}

// A symbolic link whose target does not exist yet names that target: follow it by hand (bounded, as
// the system's own resolution is), since realpath fails on a dangling link.
const followLinks = (path: string): string => {
  let absolute = Path.resolve(path)
  for (let hops = 0; hops < 40; hops++) {
    const link = Fs.lstatSync(absolute, { throwIfNoEntry: false })
    if (link === undefined || !link.isSymbolicLink()) return absolute
    absolute = Path.resolve(Path.dirname(absolute), Fs.readlinkSync(absolute))
  }
  return absolute
}

const identify = (path: string): Identity => {
  const absolute = followLinks(path)
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
 * @category files
 */
export const sameFile = (a: string, b: string): boolean => {
  const x = identify(a)
  const y = identify(b)
  return x.real === y.real || (x.inode !== undefined && x.inode === y.inode)
}
