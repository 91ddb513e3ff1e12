// Errors that map onto the contract's error envelope: {"error": {"code", "message", "details"}}.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const notFound = (what: string) =>
  new ApiError(404, `${what}_not_found`, `${what.replace("_", " ")} not found`);
export const unauthorized = (code: string, message: string) => new ApiError(401, code, message);
