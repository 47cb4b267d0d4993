/* global console, process */
/** What the benchmark scripts share: options, medians, the machine line and a plain-text table. */
import { readFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"

/** `--name value` or `--name=value` from the command line, else the fallback. */
export const option = (name, fallback) => {
  const args = process.argv.slice(2)
  const i = args.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`))
  if (i === -1) return fallback
  return args[i].includes("=") ? args[i].slice(args[i].indexOf("=") + 1) : args[i + 1] ?? fallback
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

const cpuModel = () => {
  try {
    return readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.+)$/m)?.[1] ?? cpus()[0]?.model
  } catch {
    return cpus()[0]?.model ?? "unknown CPU"
  }
}

/** The machine the figures come from. */
export const machine = () =>
  `machine: ${cpus().length} × ${cpuModel()}, Node ${process.version}, ${process.platform}-${process.arch}, ` +
  `load average ${loadavg().map((n) => n.toFixed(2)).join(" ")}`

/** Left-aligned text columns, numbers right-aligned. */
export const printTable = (header, allRows) => {
  const rows = allRows.map((row) => row.slice(0, header.length))
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)))
  const numeric = header.map((_, i) => rows.every((row) => row[i] === "" || /^[\d.]+$/.test(row[i])))
  const line = (cells) =>
    cells.map((cell, i) => numeric[i] ? cell.padStart(widths[i]) : cell.padEnd(widths[i])).join("  ").trimEnd()
  console.log(line(header))
  console.log(widths.map((w) => "-".repeat(w)).join("  "))
  for (const row of rows) console.log(line(row))
}
