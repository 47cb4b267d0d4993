/* global Buffer, console, process */
/**
 * The benchmark's eSMS stand-in: a minimal node:http server on 127.0.0.1 that reads the whole body and
 * answers the documented "accepted" JSON. Run as a child process, so its CPU is not counted as the client's.
 * Tells its parent the port over IPC (or prints it when started by hand).
 */
import { createServer } from "node:http"

const ANSWER = Buffer.from(
  JSON.stringify({ CodeResult: "100", CountRegenerate: 0, SMSID: "d8e0f1f0702544b2acb456ca9ccfd111" })
)
const HEADERS = { "content-type": "application/json; charset=utf-8", "content-length": String(ANSWER.length) }

const server = createServer((request, response) => {
  let bytes = 0
  request.on("data", (chunk) => bytes += chunk.length)
  request.on("end", () => {
    response.writeHead(bytes > 0 ? 200 : 400, HEADERS)
    response.end(ANSWER)
  })
})
// Clients keep connections open between scenarios; the server must not close them first.
server.keepAliveTimeout = 60_000
server.headersTimeout = 65_000

server.listen(0, "127.0.0.1", () => {
  const { port } = server.address()
  if (process.send) process.send({ port })
  else console.log(`listening on http://127.0.0.1:${port}`)
})
process.on("disconnect", () => process.exit(0))
