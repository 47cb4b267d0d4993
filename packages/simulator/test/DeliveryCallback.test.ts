import { assert, describe, it } from "@effect/vitest"
import * as Option from "effect/Option"
import { DeliveryCallback } from "../src/index.js"

// Query strings from the vendor's callback page (vendor-docs/callback-url.vi.md).
const consulting = "SMSID=7d11c87a22934df390f73ec59d8defd6205&SendFailed=0&SendStatus=5&SendSuccess=1" +
  "&TotalPrice=60.0000&TotalReceiver=1&TotalSent=1&RequestId=&TypeId=26&phonenumber=312158068343230" +
  "&error_info=%257B%2522data%2522%3A%257B%2522message_id%2522%3A%2522e1a60e8890be9de4c4ab%2522%2C%2522user_id" +
  "%2522%3A%252231215806834323092%2522%257D%2C%2522error%2522%3A0%2C%2522message%2522%3A%2522Success%2522%257D" +
  "____24%2F04%2F2024%252016%3A58%3A01&oaid=4097311281936189049&partnerids=e1a60e8890be9de4c4ab"
const rejected = "SMSID=f66545d2-c7e2-4603-984e-d2238c363c8292&SendFailed=1&SendStatus=5&SendSuccess=0" +
  "&TotalPrice=0.0000&TotalReceiver=1&TotalSent=0&RequestId=&TypeId=25&telcoid=2&phonenumber=0901888484" +
  "&partnerids=&error_info=%22{%5C%22error%5C%22%3A-114%2C%5C%22message%5C%22%3A%5C%22User%20is%20inactive%2C" +
  "%20or%20reject%20the%20message%2C%20or%20using%20an%20outdated%20Zalo%20version%2C%20or%20other%20internal" +
  "%20errors%5C%22}%22&oaid=1397492183140006179&tempid=2056446"
const byUid = "SMSID=5450d5579bfa466a9f2a5911c82f4037&SendFailed=0&SendStatus=5&SendSuccess=1&TotalPrice=2104.0000" +
  "&TotalReceiver=1&TotalSent=1&RequestId=&TypeId=25&telcoid=9&phonenumber=5308693166941955879" +
  "&error_info={%22error%22%3A0%2C%22message%22%3A%22Success%22%2C%22data%22%3A{%22delivery_time%22%3Anull%2C" +
  "%22message%22%3A%22The%20message%20was%20delivered%20to%20the%20user%27s%20phone%22%2C%22status%22%3A1}}" +
  "&oaid=3639635426588416370&tempid=523194&partnerids=416f53d0cf0ec7569e19"

describe("DeliveryCallback", () => {
  it("reads the vendor's Zalo consulting sample (error_info encoded twice, with a time)", () => {
    const callback = DeliveryCallback.fromQuery(new URLSearchParams(consulting))
    assert.strictEqual(callback.smsId, "7d11c87a22934df390f73ec59d8defd6205")
    assert.strictEqual(callback.typeId, 26)
    assert.strictEqual(callback.totalPrice, 60)
    assert.isUndefined(callback.requestId)
    assert.strictEqual(callback.zaloMessageId, "e1a60e8890be9de4c4ab")
    assert.deepStrictEqual(callback.zaloResult, {
      error: 0,
      message: "Success",
      data: { message_id: "e1a60e8890be9de4c4ab", user_id: "31215806834323092" }
    })
    assert.isTrue(DeliveryCallback.isDelivered(callback))
  })

  it("reads the vendor's rejected sample (error_info a JSON string holding JSON)", () => {
    const callback = DeliveryCallback.fromQuery(new URLSearchParams(rejected))
    assert.isFalse(DeliveryCallback.isDelivered(callback))
    assert.strictEqual(callback.zaloResult?.error, -114)
    assert.match(callback.zaloResult?.message ?? "", /^User is inactive/)
  })

  it("reads the vendor's UID sample (error_info encoded once)", () => {
    const callback = DeliveryCallback.fromQuery(new URLSearchParams(byUid))
    assert.strictEqual(callback.zaloResult?.error, 0)
    assert.strictEqual(callback.userId, "5308693166941955879")
  })

  it("writes what it reads, in both styles; the time is Vietnam's", () => {
    const callback: DeliveryCallback.DeliveryCallback = {
      smsId: "0123456789abcdef0123456789abcdef",
      requestId: "r 1&2",
      userId: "42",
      oaid: "7",
      sendStatus: 5,
      sendSuccess: 1,
      sendFailed: 0,
      totalPrice: 60,
      totalReceiver: 1,
      totalSent: 1,
      typeId: 26,
      zaloMessageId: "abc",
      zaloResult: { error: 0, message: "Success", data: { message_id: "abc", user_id: "42" } }
    }
    const at = Date.UTC(2024, 3, 24, 9, 58, 1)
    for (const style of ["encodedTwiceWithTime", "encodedOnce"] as const) {
      const query = DeliveryCallback.toQueryString(callback, { style, at })
      assert.deepStrictEqual(DeliveryCallback.fromQuery(new URLSearchParams(query)), callback, style)
    }
    const twice = DeliveryCallback.toQueryString(callback, { style: "encodedTwiceWithTime", at })
    assert.include(twice, "____24%2F04%2F2024%252016%3A58%3A01")
    assert.strictEqual(
      DeliveryCallback.toUrl("http://h/cb?a=1#frag", callback, { style: "encodedOnce", at }).split("?")[1].slice(0, 10),
      "a=1&SMSID="
    )
  })

  it("decodeErrorInfo: none for text that is not Zalo's JSON", () => {
    assert.isTrue(Option.isNone(DeliveryCallback.decodeErrorInfo("%%%not json")))
    assert.isTrue(Option.isNone(DeliveryCallback.decodeErrorInfo("{\"foo\":1}")))
  })
})
