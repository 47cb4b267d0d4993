/**
 * The sentences a person reads about a message (moved here from core, which keeps the structured `Fate`).
 */
import { assert, describe, it } from "@effect/vitest"
import { DeliveryReport } from "@esms-effect/core"
import * as Either from "effect/Either"
import { CallbackReceiver, DeliveryStatus } from "../src/index.js"

const describeQuery = (query: string) =>
  DeliveryStatus.describeFate(DeliveryReport.fate(Either.getOrThrow(DeliveryReport.fromQueryString(query))))

describe("DeliveryStatus.describeFate", () => {
  it("delivered, failed with and without Zalo's reason, pending by status", () => {
    assert.strictEqual(describeQuery("SMSID=x&SendStatus=5&SendSuccess=1"), "delivered")
    assert.strictEqual(describeQuery("SMSID=x&SendStatus=5&SendFailed=2"), "failed")
    const zalo = (error: number, message: string) =>
      describeQuery(new URLSearchParams({
        SMSID: "x",
        SendStatus: "5",
        SendFailed: "1",
        error_info: JSON.stringify({ error, message })
      }).toString())
    assert.strictEqual(
      zalo(-114, "User is inactive"),
      "failed: user is inactive, rejected the message, or uses an outdated Zalo version (-114)"
    )
    assert.strictEqual(zalo(-213, "User has not followed the OA"), "failed: user has not followed the OA (-213)")
    assert.strictEqual(zalo(-999, "Something new"), "failed: Something new (-999)")
    assert.strictEqual(zalo(-998, ""), "failed: Zalo error (-998)")
    assert.strictEqual(describeQuery("SMSID=x&SendStatus=2"), "waiting to send")
    assert.strictEqual(describeQuery("SMSID=x&SendStatus=7"), "sent, waiting for the report")
    assert.strictEqual(describeQuery("SMSID=x&SendStatus=4"), "rejected by eSMS")
    assert.strictEqual(describeQuery("SMSID=x&SendStatus=5"), "finished, with no result counted yet")
  })
})

describe("CallbackReceiver.describeProblems", () => {
  it("one clause per broken field, naming the field and the rule", () => {
    const refused = (query: string) => {
      const decoded = DeliveryReport.fromQueryString(query)
      assert.isTrue(Either.isLeft(decoded), query)
      return Either.isLeft(decoded) ? CallbackReceiver.describeProblems(DeliveryReport.problems(decoded.left)) : ""
    }
    assert.strictEqual(refused(""), "SMSID is required; SendStatus is required")
    assert.strictEqual(
      refused(`SMSID=${"a".repeat(200)}&SendStatus=5&SendSuccess=1e3&SendFailed=-1&TotalPrice=free`),
      "SMSID is longer than 128 characters; SendSuccess must be a whole number, got \"1e3\"; " +
        "SendFailed must not be negative; TotalPrice must be a number, got \"free\""
    )
    assert.strictEqual(refused("SMSID=a%0Ab&SendStatus=5"), "SMSID has control characters")
  })
})
