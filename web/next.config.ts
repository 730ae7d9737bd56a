import type { NextConfig } from "next";

const config: NextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The shared password client is TypeScript source in the workspace (the CLIs run it with tsx).
  transpilePackages: ["@latchkey/passwords"],
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          // A sign-in page must not be framed by another site (clickjacking).
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Content-Security-Policy", value: "frame-ancestors 'none'" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
        ],
      },
    ];
  },
};

export default config;
