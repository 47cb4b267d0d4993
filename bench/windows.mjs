/**
 * What the benchmarks count the way eSMS's TPS limit does: the most of sorted times (ms) within any one
 * window of `ms` (1,000 by default), each window starting at one of them.
 */
export const busiest = (sorted, ms = 1000) => {
  let most = 0
  for (let first = 0, last = 0; last < sorted.length; last++) {
    while (sorted[last] - sorted[first] >= ms) first++
    most = Math.max(most, last - first + 1)
  }
  return most
}
