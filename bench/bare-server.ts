// The baseline: a bare graphql-yoga hello-world server, no plugins, no database.
// Run as a child process by throughput.ts; listens on BARE_PORT on loopback only.
import { createServer } from "node:http";
import { createSchema, createYoga } from "graphql-yoga";

const yoga = createYoga({
  schema: createSchema({
    typeDefs: /* GraphQL */ `
      type Query {
        hello: String
      }
    `,
    resolvers: { Query: { hello: () => "world" } },
  }),
  graphiql: false,
  logging: false,
});

const port = Number(process.env.BARE_PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error("bare-server: BARE_PORT must be a port number");
  process.exit(2);
}

const server = createServer(yoga);
server.listen(port, "127.0.0.1", () => {
  console.log(`bare yoga listening on http://127.0.0.1:${port}/graphql`);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
