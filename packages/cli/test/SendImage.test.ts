import { HttpClientError } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { ResultCode } from "@esms-effect/core"
import * as Effect from "effect/Effect"
import { answerJson, ENV, run } from "./CliRunner.js"

const send = ["zalo", "send-image", "--user-id", "5308693166941955879", "--text", "Xin chào", "--image-url"]
const photo = "https://cdn.example.vn/p/photo.png"
const noSecrets = (result: { stdout: Array<string>; stderr: Array<string> }) => {
  const all = [...result.stdout, ...result.stderr].join("\n")
  expect(all).not.toContain(ENV.ESMS_API_KEY)
  expect(all).not.toContain(ENV.ESMS_SECRET_KEY)
}

describe("esms zalo send-image", () => {
  it.effect("sends the message and prints the accepted line (exit 0)", () =>
    Effect.gen(function*() {
      const result = yield* run([...send, photo, "--request-id", "order-42"])
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toEqual(["Accepted — SMSID sms-1 (RequestId order-42)"])
      expect(result.requests).toHaveLength(1)
      const [request] = result.requests
      expect(request.method).toBe("POST")
      expect(request.url).toBe("https://rest.esms.vn/MainService.svc/json/SendZaloFollowerMessage_V5_post_json/")
      const body = JSON.parse(request.body)
      expect(body).toMatchObject({
        ApiKey: ENV.ESMS_API_KEY,
        SecretKey: ENV.ESMS_SECRET_KEY,
        OAID: ENV.ESMS_OAID,
        RequestId: "order-42",
        Payload: { recipient: { user_id: "5308693166941955879" }, message: { text: "Xin chào" } }
      })
      expect(body.Payload.message.attachment.payload.elements).toEqual([{ media_type: "image", url: photo }])
      noSecrets(result)
    }))

  it.effect("fetches the photo before sending (on by default); --no-check-image does not", () =>
    Effect.gen(function*() {
      const checked = yield* run([...send, "https://shop.example.vn/api/images/42"])
      expect(checked.exitCode).toBe(0)
      expect(checked.imageRequests.map((r) => [r.method, r.url])).toEqual([
        ["GET", "https://shop.example.vn/api/images/42"]
      ])
      expect(checked.requests).toHaveLength(1)
      const unchecked = yield* run([...send, "https://shop.example.vn/api/images/42", "--no-check-image"])
      expect(unchecked.exitCode).toBe(0)
      expect(unchecked.imageRequests).toEqual([])
      expect(unchecked.requests).toHaveLength(1)
    }))

  it.effect("a photo that is not a JPEG or PNG: exit 2, nothing sent to eSMS", () =>
    Effect.gen(function*() {
      const result = yield* run([...send, photo], {
        image: () =>
          Effect.succeed(new Response("GIF89a\x01\x00\x01\x00", { headers: { "content-type": "image/png" } }))
      })
      expect(result.exitCode).toBe(2)
      expect(result.stderr.join("\n")).toContain(
        "--image-url is not a JPEG or PNG image: it is a GIF image (served as image/png)"
      )
      expect(result.requests).toEqual([])
    }))

  it.effect("--json prints exactly one accepted object", () =>
    Effect.gen(function*() {
      const result = yield* run([...send, photo, "--json"])
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toHaveLength(1)
      const out = JSON.parse(result.stdout[0])
      expect(out).toEqual({ status: "accepted", smsId: "sms-1", requestId: out.requestId, deduplicated: false })
      // No --request-id: esms made one, sent it, and reports it.
      expect(out.requestId).toMatch(/^esms-[0-9a-f-]{36}$/)
      expect(JSON.parse(result.requests[0].body).RequestId).toBe(out.requestId)
      expect(result.stderr).toEqual([])
    }))

  it.effect("passes every optional field through to the wire", () =>
    Effect.gen(function*() {
      const result = yield* run([
        ...send,
        photo,
        "--callback-url",
        "https://hooks.example.vn/esms?t=1",
        "--request-id",
        "r-1",
        "--send-date",
        "2026-12-01 08:30:00"
      ])
      expect(result.exitCode).toBe(0)
      const body = JSON.parse(result.requests[0].body)
      expect(body.CallbackUrl).toBe("https://hooks.example.vn/esms?t=1")
      expect(body.RequestId).toBe("r-1")
      expect(body.SendDate).toBe("2026-12-01 08:30:00")
    }))

  it.effect("--oaid and --base-url override the environment", () =>
    Effect.gen(function*() {
      const result = yield* run([...send, photo, "--oaid", "111", "--base-url", "http://127.0.0.1:8080/api/"], {
        env: { ...ENV, ESMS_BASE_URL: "https://other.example/api" }
      })
      expect(result.exitCode).toBe(0)
      expect(result.requests[0].url).toBe("http://127.0.0.1:8080/api/SendZaloFollowerMessage_V5_post_json/")
      expect(JSON.parse(result.requests[0].body).OAID).toBe("111")
    }))

  it.effect("ESMS_BASE_URL is used when no --base-url is given", () =>
    Effect.gen(function*() {
      const result = yield* run([...send, photo], { env: { ...ENV, ESMS_BASE_URL: "https://esms.example/json" } })
      expect(result.requests[0].url).toBe("https://esms.example/json/SendZaloFollowerMessage_V5_post_json/")
    }))

  describe("invalid input: exit 2, nothing sent", () => {
    it.effect("lists every broken field by its option name", () =>
      Effect.gen(function*() {
        const result = yield* run([
          "zalo",
          "send-image",
          "--user-id",
          "",
          "--text",
          "x".repeat(2001),
          "--image-url",
          "https://cdn.example.vn/photo.gif",
          "--send-date",
          "2026-02-30 10:00:00",
          "--json"
        ])
        expect(result.exitCode).toBe(2)
        expect(result.requests).toEqual([])
        const out = JSON.parse(result.stdout[0])
        expect(out.status).toBe("invalid")
        expect(out.errors.map((e: { field: string }) => e.field)).toEqual([
          "--user-id",
          "--text",
          "--image-url",
          "--send-date"
        ])
        expect(out.errors[1].message).toContain("at most 2000 characters")
      }))

    it.effect("human form names the field and the rule on stderr", () =>
      Effect.gen(function*() {
        const result = yield* run([...send, "ftp://cdn.example.vn/photo.png"])
        expect(result.exitCode).toBe(2)
        expect(result.requests).toEqual([])
        expect(result.stdout).toEqual([])
        expect(result.stderr.join("\n")).toContain("--image-url must be an absolute http:// or https:// URL")
      }))

    it.effect("missing credentials are named, keys are never options", () =>
      Effect.gen(function*() {
        const result = yield* run([...send, photo, "--json"], { env: { ESMS_OAID: "1" } })
        expect(result.exitCode).toBe(2)
        expect(result.requests).toEqual([])
        const out = JSON.parse(result.stdout[0])
        expect(out.errors.map((e: { field: string }) => e.field)).toEqual(["ESMS_API_KEY", "ESMS_SECRET_KEY"])
        const unknown = yield* run([...send, photo, "--api-key", "x"])
        expect(unknown.exitCode).toBe(2)
        expect(unknown.requests).toEqual([])
      }))

    it.effect("plain http to a remote host is refused before sending", () =>
      Effect.gen(function*() {
        const result = yield* run([...send, photo, "--base-url", "http://esms.example/json", "--json"])
        expect(result.exitCode).toBe(2)
        expect(result.requests).toEqual([])
        expect(JSON.parse(result.stdout[0]).errors[0].field).toBe("--base-url")
      }))

    it.effect("a usage error (missing option) exits 2, with one JSON object under --json", () =>
      Effect.gen(function*() {
        const result = yield* run(["zalo", "send-image", "--user-id", "1", "--json"])
        expect(result.exitCode).toBe(2)
        expect(result.requests).toEqual([])
        expect(result.stdout).toHaveLength(1)
        const out = JSON.parse(result.stdout[0])
        expect(out.status).toBe("invalid")
        expect(out.errors[0].message).toContain("--text")
      }))

    it.effect("a bad --timeout is named", () =>
      Effect.gen(function*() {
        const result = yield* run([...send, photo, "--timeout", "soon", "--json"])
        expect(result.exitCode).toBe(2)
        expect(result.requests).toEqual([])
        expect(JSON.parse(result.stdout[0]).errors[0].field).toBe("--timeout")
      }))
  })

  describe("rejected by eSMS: exit 3", () => {
    it.effect("every result code prints its tag and code", () =>
      Effect.gen(function*() {
        for (const [code, info] of Object.entries(ResultCode.table)) {
          const result = yield* run([...send, photo, "--json"], {
            answer: answerJson({ CodeResult: code, CountRegenerate: 0, ErrorMessage: `vendor says ${code}` })
          })
          expect(result.exitCode).toBe(3)
          const out = JSON.parse(result.stdout[0])
          expect(out).toMatchObject({ status: "rejected", tag: info.tag, code })
          expect(out.message).toContain(`vendor says ${code}`)
        }
      }))

    it.effect("human form for 101", () =>
      Effect.gen(function*() {
        const result = yield* run([...send, photo], {
          answer: answerJson({ CodeResult: "101", CountRegenerate: 0, ErrorMessage: "Authorize Failed" })
        })
        expect(result.exitCode).toBe(3)
        expect(result.stderr.join("\n")).toContain("Rejected by eSMS — eSMS answered 101 (AuthorizeFailed)")
        noSecrets(result)
      }))

    it.effect("the human line names the RequestId, as the accepted and failed lines do", () =>
      Effect.gen(function*() {
        const result = yield* run([...send, photo, "--request-id", "order-7"], {
          answer: answerJson({ CodeResult: "124", CountRegenerate: 0, ErrorMessage: "Duplicate RequestId" })
        })
        expect(result.exitCode).toBe(3)
        expect(result.stderr).toHaveLength(1)
        expect(result.stderr[0]).toMatch(/^Rejected by eSMS — .*124.* \(RequestId order-7\)$/)
      }))

    it.effect("an unknown code is still a rejection", () =>
      Effect.gen(function*() {
        const result = yield* run([...send, photo, "--json"], {
          answer: answerJson({ CodeResult: "555", ErrorMessage: "new" })
        })
        expect(result.exitCode).toBe(3)
        expect(JSON.parse(result.stdout[0])).toMatchObject({ tag: "UnknownResultCode", code: "555" })
      }))
  })

  describe("not delivered to eSMS: exit 4", () => {
    it.effect("HTTP 502", () =>
      Effect.gen(function*() {
        const result = yield* run([...send, photo, "--json"], { answer: answerJson({ error: "bad gateway" }, 502) })
        expect(result.exitCode).toBe(4)
        expect(JSON.parse(result.stdout[0])).toMatchObject({ status: "failed", tag: "HttpStatusError" })
      }))

    it.effect("an HTML body that echoes the keys does not leak them", () =>
      Effect.gen(function*() {
        const result = yield* run([...send, photo, "--json"], {
          answer: (request) =>
            Effect.succeed(
              new Response(`<html>proxy error for ${JSON.stringify(request.body)} ${ENV.ESMS_API_KEY}</html>`, {
                status: 200
              })
            )
        })
        expect(result.exitCode).toBe(4)
        expect(JSON.parse(result.stdout[0])).toMatchObject({ status: "failed", tag: "BodyNotJson" })
        noSecrets(result)
      }))

    it.effect("connection refused", () =>
      Effect.gen(function*() {
        const result = yield* run([...send, photo], {
          answer: (request) =>
            Effect.fail(
              new HttpClientError.RequestError({ request, reason: "Transport", cause: { code: "ECONNREFUSED" } })
            )
        })
        expect(result.exitCode).toBe(4)
        expect(result.stderr.join("\n")).toContain("Not delivered to eSMS — Could not connect to eSMS: ECONNREFUSED")
      }))

    it.live("a server that does not answer within --timeout", () =>
      Effect.gen(function*() {
        const result = yield* run([...send, photo, "--timeout", "200 millis", "--json"], {
          answer: () => Effect.never
        })
        expect(result.exitCode).toBe(4)
        expect(JSON.parse(result.stdout[0])).toMatchObject({ status: "failed", tag: "RequestTimeout" })
      }))
  })
})

describe("esms", () => {
  it.effect("--version prints the version", () =>
    Effect.gen(function*() {
      const result = yield* run(["--version"])
      expect(result.exitCode).toBe(0)
      expect(result.stdout.join("\n")).toContain("0.1.0")
    }))

  it.effect("--help on send-image documents the exit codes and takes no secret options", () =>
    Effect.gen(function*() {
      const result = yield* run(["zalo", "send-image", "--help"])
      expect(result.exitCode).toBe(0)
      const help = result.stdout.join("\n")
      expect(help).toContain("--image-url")
      expect(help).toContain("Exit codes: 0 accepted; 2 invalid input")
      expect(help).not.toMatch(/--api-key|--secret-key/)
    }))

  it.effect("an unknown command is a usage error", () =>
    Effect.gen(function*() {
      const result = yield* run(["zalo", "send-video"])
      expect(result.exitCode).toBe(2)
    }))
})
