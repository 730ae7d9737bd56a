import type { Metadata } from "next";
import { LoginFeedScreen } from "@/login-feed/LoginFeedScreen";

export const metadata: Metadata = { title: "Login feed" };

export default function CustomerLoginsPage() {
  return <LoginFeedScreen />;
}
