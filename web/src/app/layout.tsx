import type { Metadata } from "next";
import type { ReactNode } from "react";
import { readPortalConfig } from "@/config";
import { TenantAddressProvider } from "@/session/tenant-address";
import { UrqlProvider } from "@/urql/UrqlProvider";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Latchkey", template: "%s · Latchkey" },
  description: "Cloud directory and passwordless desktop login for MSPs",
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  const { apiUrl, baseDomain } = await readPortalConfig();
  return (
    <html lang="en">
      <body>
        <TenantAddressProvider baseDomain={baseDomain}>
          <UrqlProvider apiUrl={apiUrl}>{children}</UrqlProvider>
        </TenantAddressProvider>
      </body>
    </html>
  );
}
