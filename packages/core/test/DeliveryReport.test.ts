import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as DeliveryReport from "../src/DeliveryReport.js"
import { Fate } from "../src/DeliveryReport.js"
import { vendorSamples } from "./VendorSamples.js"

const decode = (query: string) => {
  const decoded = DeliveryReport.fromQueryString(query)
  if (Either.isLeft(decoded)) throw new Error(`did not decode: ${decoded.left.message}`)
  return decoded.right
}

const sample = (name: string) => decode(vendorSamples.find((s) => s.name === name)!.query)

describe("DeliveryReport", () => {
  it("decodes every vendor sample: SMSID, a named status, counts as numbers", () => {
    assert.strictEqual(vendorSamples.length, 9)
    for (const { name, query } of vendorSamples) {
      const report = decode(query)
      assert.match(report.smsId, /^[0-9a-f-]{32,}$/, name)
      assert.strictEqual(report.sendStatus, "Finished", name)
      assert.strictEqual(report.sendStatusCode, 5, name)
      assert.isNumber(report.totalPrice, name)
      assert.isUndefined(report.requestId, `${name}: an empty RequestId is absent`)
    }
  })

  it("customer care: counts and TypeId as numbers; an unknown field is kept in extra", () => {
    const report = sample("customer care")
    assert.strictEqual(report.sendFailed, 2)
    assert.strictEqual(report.sendSuccess, 0)
    assert.strictEqual(report.totalReceiver, 2)
    assert.strictEqual(report.typeId, 2)
    assert.strictEqual(report.telcoId, 1)
    assert.strictEqual(report.phoneNumber, "0901888484")
    assert.deepStrictEqual(report.extra, { switchsmsid: "" })
    assert.deepStrictEqual(DeliveryReport.fate(report), Fate.Failed({ zaloError: undefined, zaloMessage: undefined }))
  })

  it("advertising: a large price; Zalo consulting: TypeId 26 at 60", () => {
    assert.strictEqual(sample("advertising").totalPrice, 696987)
    const consulting = sample("Zalo consulting (encoded twice, with time)")
    assert.strictEqual(consulting.totalPrice, 60)
    assert.strictEqual(consulting.typeId, 26)
    assert.strictEqual(consulting.zaloMessageId, "e1a60e8890be9de4c4ab")
  })

  it("Zalo -114: error_info as a JSON string holding Zalo's JSON", () => {
    const report = sample("Zalo (error -114, a JSON string)")
    assert.strictEqual(report.zalo?.error, -114)
    assert.match(report.zalo?.message ?? "", /^User is inactive, or reject the message/)
    assert.strictEqual(report.tempId, "2056446")
    assert.strictEqual(report.oaid, "1397492183140006179")
    assert.isUndefined(report.zaloMessageId)
    assert.deepStrictEqual(
      DeliveryReport.fate(report),
      Fate.Failed({ zaloError: -114, zaloMessage: report.zalo?.message })
    )
  })

  for (const name of ["Zalo consulting (encoded twice, with time)", "Zalo journey"]) {
    it(`${name}: error_info encoded twice with the ____time suffix`, () => {
      const report = sample(name)
      assert.deepStrictEqual(report.zalo?.data, { message_id: "e1a60e8890be9de4c4ab", user_id: "31215806834323092" })
      assert.strictEqual(report.zalo?.error, 0)
      assert.strictEqual(report.zalo?.message, "Success")
      assert.strictEqual(report.zaloTime, "24/04/2024 16:58:01")
      assert.isTrue(Fate.$is("Delivered")(DeliveryReport.fate(report)))
    })
  }

  for (const name of ["Zalo transaction", "Zalo user-info request"]) {
    it(`${name}: the same encoding, another time and message id`, () => {
      const report = sample(name)
      assert.strictEqual(report.zalo?.data?.message_id, "f405841b5f2352790b36")
      assert.strictEqual(report.zaloMessageId, "f405841b5f2352790b36")
      assert.strictEqual(report.zaloTime, "24/04/2024 17:07:01")
      assert.strictEqual(report.typeId, 26)
    })
  }

  it("Zalo by UID: error_info encoded once, nested data kept whole", () => {
    const report = sample("Zalo by UID (encoded once)")
    assert.strictEqual(report.zalo?.error, 0)
    assert.deepStrictEqual(report.zalo?.data, {
      delivery_time: null,
      message: "The message was delivered to the user's phone",
      status: 1
    })
    assert.isUndefined(report.zaloTime)
    assert.strictEqual(report.phoneNumber, "5308693166941955879")
    assert.strictEqual(report.zaloMessageId, "416f53d0cf0ec7569e19")
  })

  it("Viber: delivered", () => {
    assert.isTrue(Fate.$is("Delivered")(DeliveryReport.fate(sample("Viber"))))
  })

  it("error_info not encoded at all, and a -213 report reads as not following the OA", () => {
    const errorInfo = JSON.stringify({ error: -213, message: "User has not followed the OA" })
    const query = new URLSearchParams({
      SMSID: "abc",
      SendStatus: "5",
      SendFailed: "1",
      SendSuccess: "0",
      RequestId: "r-1",
      error_info: `${errorInfo}____01/12/2026 08:30:00`
    })
    const report = decode(query.toString())
    assert.strictEqual(report.requestId, "r-1")
    assert.strictEqual(report.zaloTime, "01/12/2026 08:30:00")
    assert.deepStrictEqual(
      DeliveryReport.fate(report),
      Fate.Failed({ zaloError: -213, zaloMessage: "User has not followed the OA" })
    )
    assert.strictEqual(DeliveryReport.result(report), "failed")
  })

  it("unreadable error_info is kept raw and does not fail the report", () => {
    const report = decode("SMSID=x&SendStatus=5&SendSuccess=1&error_info=%25%25not-json")
    assert.strictEqual(report.errorInfo, "%%not-json")
    assert.isUndefined(report.zalo)
    assert.strictEqual(DeliveryReport.result(report), "success")
  })

  it("every status has a name; an undocumented one is Unknown with its code", () => {
    const names = [1, 2, 4, 5, 7, 9].map((code) => decode(`SMSID=x&SendStatus=${code}`).sendStatus)
    assert.deepStrictEqual(names, [
      "WaitingForApproval",
      "WaitingToSend",
      "Rejected",
      "Finished",
      "SentAwaitingReport",
      "Unknown"
    ])
    assert.strictEqual(decode("SMSID=x&SendStatus=9").sendStatusCode, 9)
    assert.deepStrictEqual(
      DeliveryReport.fate(decode("SMSID=x&SendStatus=2")),
      Fate.Pending({ status: "WaitingToSend" })
    )
    assert.deepStrictEqual(
      DeliveryReport.fate(decode("SMSID=x&SendStatus=7")),
      Fate.Pending({ status: "SentAwaitingReport" })
    )
  })

  it("refuses a query without SMSID or SendStatus, or with counts that are not numbers", () => {
    for (
      const query of [
        "",
        "SendStatus=5",
        "SMSID=&SendStatus=5",
        "SMSID=x",
        "SMSID=x&SendStatus=five",
        "SMSID=x&SendStatus=5&SendSuccess=1e3",
        "SMSID=x&SendStatus=5&SendFailed=-1",
        "SMSID=x&SendStatus=5&TotalPrice=free",
        `SMSID=${"a".repeat(200)}&SendStatus=5`,
        "SMSID=a%0Ab&SendStatus=5"
      ]
    ) {
      assert.isTrue(Either.isLeft(DeliveryReport.fromQueryString(query)), JSON.stringify(query))
    }
    const error = DeliveryReport.fromQueryString("SMSID=x&SendStatus=five")
    assert.isTrue(Either.isLeft(error))
    assert.deepStrictEqual(DeliveryReport.problems(Either.getLeft(error).pipe(Option.getOrThrow)), [
      { field: "SendStatus", rule: "WholeNumber", actual: "five" }
    ])
  })

  it("problems: one per broken field, each named by its rule", () => {
    const refused = (query: string) =>
      DeliveryReport.problems(Option.getOrThrow(Either.getLeft(DeliveryReport.fromQueryString(query))))
    assert.deepStrictEqual(refused(""), [
      { field: "SMSID", rule: "Required" },
      { field: "SendStatus", rule: "Required" }
    ])
    assert.deepStrictEqual(refused(`SMSID=${"a".repeat(200)}&SendStatus=5&SendFailed=-1&TotalPrice=free`), [
      { field: "SMSID", rule: "TooLong", actual: "a".repeat(200) },
      { field: "SendFailed", rule: "NonNegative", actual: "-1" },
      { field: "TotalPrice", rule: "Number", actual: "free" }
    ])
    assert.deepStrictEqual(refused("SMSID=a%0Ab&SendStatus=5"), [
      { field: "SMSID", rule: "ControlCharacters", actual: "a\nb" }
    ])
  })

  it("a repeated field keeps its first value", () => {
    assert.strictEqual(decode("SMSID=first&SMSID=second&SendStatus=5").smsId, "first")
  })

  it("encodes back to a query that decodes to the same report", () => {
    for (const { query } of vendorSamples) {
      const report = decode(query)
      const encoded = Schema.encodeSync(DeliveryReport.DeliveryReportFromQuery)(report)
      assert.deepStrictEqual(Schema.decodeSync(DeliveryReport.DeliveryReportFromQuery)(encoded), report)
    }
  })

  // Kills the mutant that drops the Zalo-error clause of `result`: the counts say success, Zalo says no.
  it("a report whose counts say delivered but whose error_info carries a Zalo error is failed", () => {
    const errorInfo = JSON.stringify({ error: -230, message: "User has not interacted with the OA" })
    const report = decode(new URLSearchParams({
      SMSID: "z1",
      SendStatus: "5",
      SendSuccess: "1",
      SendFailed: "0",
      error_info: errorInfo
    }).toString())
    assert.strictEqual(DeliveryReport.result(report), "failed")
    assert.deepStrictEqual(
      DeliveryReport.fate(report),
      Fate.Failed({ zaloError: -230, zaloMessage: "User has not interacted with the OA" })
    )
  })

  // Kills a change to the "finished with no result" branch of `fate`: nothing counted yet is not an outcome.
  it("a finished report with no count yet is still pending, as Finished", () => {
    const report = decode("SMSID=x&SendStatus=5&SendSuccess=0&SendFailed=0")
    assert.strictEqual(DeliveryReport.result(report), "none")
    assert.deepStrictEqual(DeliveryReport.fate(report), Fate.Pending({ status: "Finished" }))
  })

  it("writes the query eSMS sends (vendor field order), in both error_info styles; the time is Vietnam's", () => {
    const at = Date.UTC(2024, 3, 24, 9, 58, 1)
    const zalo = new DeliveryReport.ZaloResult({
      error: 0,
      message: "Success",
      data: { message_id: "abc", user_id: "42" }
    })
    for (const style of ["encodedTwiceWithTime", "encodedOnce"] as const) {
      const report = new DeliveryReport.DeliveryReport({
        smsId: "0123456789abcdef0123456789abcdef",
        sendStatus: "Finished",
        sendStatusCode: 5,
        sendSuccess: 1,
        sendFailed: 0,
        totalPrice: 60,
        totalReceiver: 1,
        totalSent: 1,
        requestId: "r 1&2",
        typeId: 26,
        phoneNumber: "42",
        oaid: "7",
        zaloMessageId: "abc",
        ...DeliveryReport.zaloFields(zalo, { style, at }),
        extra: {}
      })
      const query = DeliveryReport.toQueryString(report)
      assert.strictEqual(
        [...new URLSearchParams(query).keys()].join(","),
        "SMSID,SendFailed,SendStatus,SendSuccess,TotalPrice,TotalReceiver,TotalSent,RequestId,TypeId,phonenumber," +
          "error_info,oaid,partnerids"
      )
      assert.deepStrictEqual(decode(query), report, style)
      if (style === "encodedTwiceWithTime") assert.include(query, "____24%2F04%2F2024%252016%3A58%3A01")
      assert.strictEqual(
        DeliveryReport.toUrl("http://h/cb?a=1#frag", report).split("?")[1].slice(0, 10),
        "a=1&SMSID="
      )
    }
  })

  it("decodeErrorInfo: none for text that is not Zalo's JSON", () => {
    assert.isTrue(Option.isNone(DeliveryReport.decodeErrorInfo("%%%not json")))
    assert.isTrue(Option.isNone(DeliveryReport.decodeErrorInfo("{\"foo\":1}")))
  })
})
