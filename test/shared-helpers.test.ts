import { describe, expect, it } from "vitest";
import { constantTimeEqual, fromBase64, hmac, hmacKey, safeEqual, toHex } from "../src/http/crypto";
import { CHUNK_BYTES, ChunkedJson } from "../src/uploads/chunked-json";
import { E164 } from "../src/uploads/phone";

describe("constant-time comparison", () => {
  it("is true only for the very same string", async () => {
    expect(constantTimeEqual("v1,abc", "v1,abc")).toBe(true);
    expect(constantTimeEqual("v1,abc", "v1,abd"), "one character differs").toBe(false);
    expect(constantTimeEqual("v1,abc", "v1,ab"), "a prefix").toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
    expect(await safeEqual("admin-token", "admin-token")).toBe(true);
    expect(await safeEqual("admin-token", "admin-token ")).toBe(false);
  });
});

describe("cached HMAC keys", () => {
  it("signs as RFC 4231 test case 2 says", async () => {
    expect(toHex(await hmac("Jefe", "what do ya want for nothing?"))).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    expect(toHex(await hmac("Jefe", "what do ya want for nothing?", "SHA-1"))).toBe("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
  });

  it("imports a key once per secret and hash, and keeps text and byte secrets apart", async () => {
    const bytes = fromBase64(btoa("Jefe"));
    expect(hmacKey("Jefe")).toBe(hmacKey("Jefe"));
    expect(hmacKey("Jefe", "SHA-1")).not.toBe(hmacKey("Jefe"));
    expect(hmacKey(bytes)).toBe(hmacKey(fromBase64(btoa("Jefe"))));
    expect(hmacKey(bytes)).not.toBe(hmacKey("Jefe"));
    expect(toHex(await hmac(bytes, "what do ya want for nothing?"))).toBe(toHex(await hmac("Jefe", "what do ya want for nothing?")));
  });
});

describe("JSON chunks for D1", () => {
  it("keeps every member in order, each chunk under the bound", () => {
    const array = new ChunkedJson("[]");
    const member = JSON.stringify(`+1${"5".repeat(10)}`);
    const members = Math.ceil((2.5 * CHUNK_BYTES) / member.length);
    for (let i = 0; i < members; i++) array.push(member);
    expect(array.count).toBe(members);
    const chunks = array.finish();
    expect(chunks.length).toBe(3);
    expect(chunks.every((chunk) => chunk.json.length <= CHUNK_BYTES)).toBe(true);
    expect(chunks.reduce((sum, chunk) => sum + chunk.count, 0)).toBe(members);
    expect(chunks.flatMap((chunk) => JSON.parse(chunk.json) as string[])).toHaveLength(members);
  });

  it("wraps object members in braces, and makes no chunk of nothing", () => {
    const object = new ChunkedJson("{}");
    object.push('"0:2+14155550100|":[]');
    object.push('"1:3+14155550101|":["x"]');
    expect(object.finish()).toEqual([{ json: '{"0:2+14155550100|":[],"1:3+14155550101|":["x"]}', count: 2 }]);
    expect(new ChunkedJson("[]").finish()).toEqual([]);
  });
});

describe("the E.164 pattern", () => {
  it.each(["+14155550100", "+4420711", "+123456789012345"])("accepts %s", (number) => expect(E164.test(number)).toBe(true));
  it.each(["14155550100", "+04155550100", "+123456", "+1234567890123456", "+1 415 555 0100"])("refuses %s", (number) => expect(E164.test(number)).toBe(false));
});
