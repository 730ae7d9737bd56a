// The MSP's customers and their users, page by page.
import type { GraphQLClient } from "graphql-request";
import { graphql } from "./gql/index.ts";
import type { CustomersWithUsersQuery } from "./gql/graphql.ts";

graphql(`
  fragment UserPage on UserConnection {
    totalCount
    edges { node { id email } }
    pageInfo { hasNextPage endCursor }
  }
`);

// One query brings a page of customers, each with the first page of its users.
const CustomersWithUsers = graphql(`
  query CustomersWithUsers($customersFirst: Int!, $after: String, $usersFirst: Int!) {
    customers(first: $customersFirst, after: $after) {
      edges { node { id displayName users(first: $usersFirst) { ...UserPage } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

// A customer with more users than one page holds: the same field, paged on from its cursor.
const MoreUsers = graphql(`
  query MoreUsers($tenantId: ID!, $first: Int!, $after: String) {
    tenant(id: $tenantId) { users(first: $first, after: $after) { ...UserPage } }
  }
`);

export type Customer = {
  id: string;
  displayName: string;
  /** How many users the API says the customer has. */
  userCount: number;
  users: { id: string; email: string }[];
};

export type PageSizes = { customers: number; users: number };

/**
 * Every customer the key reaches, with all of its users. Each page of customers
 * carries its users' first page; only customers with more users than that
 * need a request of their own.
 */
export async function listCustomersWithUsers(client: GraphQLClient, pageSizes: PageSizes): Promise<Customer[]> {
  const customers: Customer[] = [];
  let after: string | null = null;
  do {
    // Typed by the document; annotated only because TypeScript cannot infer it through `after`, which it feeds.
    const { customers: page }: CustomersWithUsersQuery = await client.request(CustomersWithUsers, {
      customersFirst: pageSizes.customers,
      usersFirst: pageSizes.users,
      after,
    });
    // An unknown, expired or revoked key is answered as a caller who is not signed in: `customers` is null.
    if (!page) throw new Error("customers is null: the API did not accept LATCHKEY_API_KEY");
    for (const { node } of page.edges) {
      if (!node.users) throw new Error(`The key may not read the users of ${node.displayName} (${node.id})`);
      const users = node.users.edges.map((edge) => edge.node);
      let { pageInfo } = node.users;
      while (pageInfo.hasNextPage) {
        const { tenant } = await client.request(MoreUsers, { tenantId: node.id, first: pageSizes.users, after: pageInfo.endCursor });
        if (!tenant?.users) throw new Error(`The users of ${node.displayName} (${node.id}) are no longer readable`);
        users.push(...tenant.users.edges.map((edge) => edge.node));
        pageInfo = tenant.users.pageInfo;
      }
      customers.push({ id: node.id, displayName: node.displayName, userCount: node.users.totalCount, users });
    }
    after = page.pageInfo.hasNextPage ? (page.pageInfo.endCursor ?? null) : null;
  } while (after);
  return customers;
}
