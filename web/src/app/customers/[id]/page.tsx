import type { Metadata } from "next";
import { DirectoryScreen } from "@/directory/DirectoryScreen";

export const metadata: Metadata = { title: "Users" };

export default function CustomerUsersPage() {
  return <DirectoryScreen />;
}
