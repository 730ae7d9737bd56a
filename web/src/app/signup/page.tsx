import type { Metadata } from "next";
import { SignUpForm } from "@/signup/SignUpForm";

export const metadata: Metadata = { title: "Create an MSP account" };

export default function SignUpPage() {
  return (
    <main className="auth-page">
      <SignUpForm />
    </main>
  );
}
