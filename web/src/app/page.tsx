import { HomeRedirect } from "@/session/HomeRedirect";

export default function HomePage() {
  return <HomeRedirect />;
}
