// Which errors mean "PostgreSQL is unreachable right now" (503 database_unavailable), and which
// stay 500s (bugs must not hide behind a 503).
import { describe, expect, it } from "vitest";
import { isDatabaseUnavailable } from "../src/db/unavailable.js";

const withCode = (code: string, message = "x") => Object.assign(new Error(message), { code });

describe("isDatabaseUnavailable", () => {
  it.each([
    ["refused connection", withCode("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432")],
    ["reset connection", withCode("ECONNRESET")],
    [
      "admin shutdown (pg_ctl stop -m fast)",
      withCode("57P01", "terminating connection due to administrator command"),
    ],
    ["starting up", withCode("57P03", "the database system is starting up")],
    ["connection exception class 08", withCode("08006")],
    ["too many connections", withCode("53300")],
    ["socket closed under a query", new Error("Connection terminated unexpectedly")],
    ["pool connect timeout", new Error("timeout exceeded when trying to connect")],
    [
      "happy-eyeballs AggregateError",
      new AggregateError([withCode("ECONNREFUSED"), withCode("ECONNREFUSED")], ""),
    ],
    ["wrapped in a cause", new Error("insert failed", { cause: withCode("57P01") })],
  ])("%s → unavailable", (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ["unique violation", withCode("23505", "duplicate key value violates unique constraint")],
    ["syntax error (a bug)", withCode("42601")],
    ["plain TypeError", new TypeError("cannot read properties of undefined")],
    ["not an error", "ECONNREFUSED"],
    ["null", null],
  ])("%s → not unavailable", (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});
