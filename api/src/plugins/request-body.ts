// The body limit holds whatever the request says about its size: a declared
// Content-Length over the limit is refused before reading, and every body
// (chunked ones have no length) is counted as it is read and cut off past the
// limit. A refusal closes the connection, so the rest is never read.
import { createGraphQLError, type Plugin } from "graphql-yoga";
import type { ErrorCode } from "@latchkey/schema";

function tooLarge(limit: number) {
  return createGraphQLError(`Request too large: at most ${limit} bytes`, {
    extensions: { code: "REQUEST_TOO_LARGE" satisfies ErrorCode, http: { status: 413 } },
  });
}

/** A copy of `request` whose body fails once more than `limit` bytes have come through. */
function counted(request: Request, limit: number, fetchAPI: { Request: typeof Request }): Request {
  let received = 0;
  // Yoga may hand us Node's own ReadableStream or its ponyfill's; pipe through the same kind.
  const Transform = request.body instanceof ReadableStream ? TransformStream : (fetchAPI as unknown as { TransformStream: typeof TransformStream }).TransformStream;
  const body = request.body!.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        received += chunk.byteLength;
        if (received > limit) controller.error(tooLarge(limit));
        else controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, { method: request.method, headers: request.headers, signal: request.signal, body, duplex: "half" } as RequestInit);
}

export function useRequestBodyLimit(limits: { requestBodyBytes: number; uploadBodyBytes: number }): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const multipart = request.headers.get("content-type")?.toLowerCase().startsWith("multipart/form-data") ?? false;
      const limit = multipart ? limits.uploadBodyBytes : limits.requestBodyBytes;
      const declared = request.headers.get("content-length");
      if (declared !== null && /^\d+$/.test(declared) && Number(declared) > limit) throw tooLarge(limit);
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser((incoming) => parse(counted(incoming, limit, fetchAPI as never)));
    },
    onResponse({ response }) {
      if (response.status === 413) response.headers.set("connection", "close");
    },
  };
}
