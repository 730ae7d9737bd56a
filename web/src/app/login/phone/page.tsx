import type { Metadata } from "next";
import { PhoneLogIn } from "@/phone-login/PhoneLogIn";

export const metadata: Metadata = { title: "Log in with your phone" };

export default async function PhoneLogInPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  // `?tenant=contoso-acme` prefills the slug (a bookmark, or the password form passing it on).
  const { tenant } = await searchParams;
  const initialTenant = typeof tenant === "string" ? tenant.trim().toLowerCase().slice(0, 63) : "";
  return (
    <main className="auth-page">
      <PhoneLogIn initialTenant={initialTenant} />
    </main>
  );
}
