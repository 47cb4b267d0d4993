import { assert, describe, it } from "@effect/vitest"
import * as Network from "../src/Network.js"

describe("Network", () => {
  it("urlHost brackets IPv6 addresses only; reachableUrlHost reaches a wildcard address on loopback", () => {
    assert.strictEqual(Network.urlHost("::1"), "[::1]")
    assert.strictEqual(Network.urlHost("127.0.0.1"), "127.0.0.1")
    assert.strictEqual(Network.urlHost("0.0.0.0"), "0.0.0.0")
    assert.strictEqual(Network.reachableUrlHost("0.0.0.0"), "127.0.0.1")
    assert.strictEqual(Network.reachableUrlHost("::"), "127.0.0.1")
    assert.strictEqual(Network.reachableUrlHost("::1"), "[::1]")
  })

  it("describeCause: each code or message along the chain once, the fallback when there is none", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" })
    assert.strictEqual(
      Network.describeCause(new TypeError("fetch failed", { cause: refused })),
      "fetch failed: ECONNREFUSED"
    )
    assert.strictEqual(
      Network.describeCause({ cause: { code: "ECONNRESET", cause: { code: "ECONNRESET" } } }),
      "ECONNRESET"
    )
    assert.strictEqual(Network.describeCause(undefined), "transport error")
    assert.strictEqual(Network.describeCause({}, "request failed"), "request failed")
  })
})
