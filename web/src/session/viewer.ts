"use client";

import { useSyncExternalStore } from "react";
import { useQuery } from "urql";
import { graphql } from "@/gql";

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      user {
        id
        firstName
        lastName
        username
        email
        role
      }
      tenant {
        id
        slug
        kind
        displayName
        viewerCanCreateCustomers
        viewerCanEditSettings
        viewerCanManageUsers
      }
    }
  }
`);

const noSubscription = () => () => {};

/**
 * False during server rendering and hydration, true afterwards. The session cookie
 * belongs to the API's origin, so only the browser can ask who is signed in.
 */
function useInBrowser() {
  return useSyncExternalStore(noSubscription, () => true, () => false);
}

export function useViewer() {
  const inBrowser = useInBrowser();
  const [result, refetch] = useQuery({ query: ViewerQuery, pause: !inBrowser });
  return {
    viewer: result.data?.viewer ?? null,
    // Paused counts as loading: the answer is not known yet.
    loading: !inBrowser || result.fetching || (!result.data && !result.error),
    error: result.error ?? null,
    refetch,
  };
}
