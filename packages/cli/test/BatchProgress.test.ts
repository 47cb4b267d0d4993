import { assert, describe, it } from "@effect/vitest"
import * as BatchTally from "../src/BatchTally.js"

const tally = (over: Partial<BatchTally.Tally>): BatchTally.Tally => ({ ...BatchTally.newTally(0), ...over })

describe("send-batch progress", () => {
  it("the ETA of a resume is the rows left at this run's send rate, not inflated by the rows it skipped", () => {
    // 2,000 rows, 429 settled by an earlier run and skipped in the first second, then 36 sent in 2 s.
    const resumed = tally({ rows: 2000, done: 429 + 36, acceptedEarlier: 429, accepted: 36, sentThisRun: 36 })
    assert.strictEqual(BatchTally.etaSeconds(resumed, 2000), Math.round(1535 / 18))
    assert.isUndefined(BatchTally.etaSeconds(tally({ rows: 2000, done: 429, acceptedEarlier: 429 }), 500))
  })

  it("the summary counts rows in the singular for one", () => {
    assert.strictEqual(
      BatchTally.summaryTable(tally({ rows: 1, done: 1, accepted: 1 }), "done").split("\n")[0],
      "1 row"
    )
    assert.match(
      BatchTally.summaryTable(tally({ rows: 1, done: 0, inFlight: 1 }), "interrupted"),
      /^Interrupted after 0 of 1 row;[\s\S]*in flight +1 +cut at the stop/
    )
  })
})
