import type { Metadata } from "next";
import { LogInForm } from "@/login/LogInForm";

export const metadata: Metadata = { title: "Sign in" };

export default function LogInPage() {
  return (
    <main className="auth-page">
      <LogInForm />
    </main>
  );
}
