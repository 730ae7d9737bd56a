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
        hasPassword
        mustChangePassword
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
    // Paused counts as loading: the answer is not known yet. A refetch while the viewer is known
    // is not: it would unmount the page, and with it its dialogs, focus and the queries it holds.
    loading: !inBrowser || (!result.data && !result.error),
    error: result.error ?? null,
    refetch,
  };
}
