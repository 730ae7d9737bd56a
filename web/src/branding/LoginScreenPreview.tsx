"use client";

import type { DesktopLoginMethod } from "@/gql/graphql";
import { useApiUrl } from "@/urql/UrqlProvider";

export type PreviewImage = { url: string; width: number; height: number } | null;

/**
 * The customer's Windows login screen as the desktop agent will draw it: background,
 * logo, the admin's text and the sign-in the chosen method shows. The text is rendered
 * as text (React escapes it; line breaks kept by CSS), never as markup. The whole
 * picture is inert: its fake inputs are not reachable by keyboard or screen reader.
 */
export function LoginScreenPreview(props: {
  tenantName: string;
  text: string;
  background: PreviewImage;
  logo: PreviewImage;
  desktopLoginEnabled: boolean;
  method: DesktopLoginMethod;
  passwordFallback: boolean;
}) {
  const apiUrl = useApiUrl();
  // Branding URLs are paths on the API's origin; the portal is on its own.
  const imageUrl = (image: NonNullable<PreviewImage>) => new URL(image.url, apiUrl).toString();
  const showsPassword = props.method === "PASSWORD" || props.passwordFallback;

  return (
    <figure className="login-preview-frame" aria-labelledby="login-preview-caption">
      <div
        className="login-preview"
        data-testid="login-preview"
        style={props.background ? { backgroundImage: `url("${imageUrl(props.background)}")` } : undefined}
        inert
        aria-hidden="true"
      >
        <div className="login-preview-panel">
          {props.logo && (
            // A plain <img>: next/image would fetch through the portal's optimizer, not the API.
            // eslint-disable-next-line @next/next/no-img-element
            <img className="login-preview-logo" src={imageUrl(props.logo)} alt="" width={props.logo.width} height={props.logo.height} />
          )}
          <p className="login-preview-tenant">{props.tenantName}</p>
          {props.text.trim() && <p className="login-preview-text" data-testid="login-preview-text">{props.text}</p>}
          {!props.desktopLoginEnabled ? (
            <p className="login-preview-off">Desktop login is off: Windows shows its own sign-in.</p>
          ) : (
            <>
              {props.method === "PASSWORDLESS" && (
                <div className="login-preview-qr">
                  <span className="login-preview-qr-code" />
                  <span>Scan with the Latchkey authenticator</span>
                </div>
              )}
              {showsPassword && (
                <div className="login-preview-fields">
                  <span className="login-preview-input">Username</span>
                  <span className="login-preview-input">Password</span>
                  <span className="login-preview-button">Sign in</span>
                </div>
              )}
            </>
          )}
        </div>
      </div>
      <figcaption id="login-preview-caption" className="field-hint">
        Preview of the login screen{props.desktopLoginEnabled ? "" : " (desktop login is off)"}. It follows your changes before you save them.
      </figcaption>
    </figure>
  );
}
