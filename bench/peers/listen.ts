// How a peer server starts: once its database connections are open (if it has any), it listens
// on loopback and prints {"port":N}, the line the benchmark waits for; a database it cannot open
// is named and the process exits 1.
import type { Server } from "node:http";

export function listenWhenOpen(http: Server, opened: Promise<void>, what: string): void {
  opened.then(
    () =>
      http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
        const address = http.address();
        console.log(JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 }));
      }),
    (error: Error) => {
      console.error(`cannot open ${what} (DATABASE_URL): ${error.message}`);
      process.exit(1);
    },
  );
}
