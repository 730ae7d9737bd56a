"use client";

import { useId, useRef, useState, type ChangeEvent } from "react";
import { useMutation } from "urql";
import { graphql } from "@/gql";
import type { BrandingImageKind } from "@/gql/graphql";
import { actionProblem, errorsFromResult, errorsFromTransport } from "@/forms/form-errors";

const UploadBrandingImageMutation = graphql(`
  mutation UploadBrandingImage($input: UploadBrandingImageInput!) {
    uploadBrandingImage(input: $input) {
      __typename
      ... on UploadBrandingImagePayload {
        tenant {
          id
          desktopSettings {
            branding {
              background {
                url
                hash
                width
                height
              }
              logo {
                url
                hash
                width
                height
              }
            }
          }
        }
      }
      ... on Error {
        message
        code
      }
      ... on ValidationError {
        fields {
          path
          message
        }
      }
    }
  }
`);

const RemoveBrandingImageMutation = graphql(`
  mutation RemoveBrandingImage($input: RemoveBrandingImageInput!) {
    removeBrandingImage(input: $input) {
      __typename
      ... on RemoveBrandingImagePayload {
        tenant {
          id
          desktopSettings {
            branding {
              background {
                url
                hash
                width
                height
              }
              logo {
                url
                hash
                width
                height
              }
            }
          }
        }
      }
      ... on Error {
        message
        code
      }
    }
  }
`);

const MAX_BYTES = 5 * 1024 * 1024;
const TYPES = ["image/png", "image/jpeg"];
const FIELDS = ["image"] as const;

/**
 * A login-screen image: choosing a file uploads it at once (a multipart GraphQL request);
 * the API checks and re-encodes it and serves it by its hash. Both writes answer with the
 * customer's images, which the cache passes on to the form and the preview.
 */
export function BrandingImageField(props: {
  tenantId: string;
  kind: BrandingImageKind;
  label: string;
  hint: string;
  current: { width: number; height: number } | null;
  canEdit: boolean;
}) {
  const id = useId();
  const inputRef = useRef<HTMLInputElement>(null);
  const [{ fetching: uploading }, upload] = useMutation(UploadBrandingImageMutation);
  const [{ fetching: removing }, remove] = useMutation(RemoveBrandingImageMutation);
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState("");

  async function choose(event: ChangeEvent<HTMLInputElement>) {
    const file = event.target.files?.[0];
    setProblem(null);
    setNotice("");
    if (!file) return;
    if (!TYPES.includes(file.type)) return setProblem("Choose a PNG or JPEG image.");
    if (file.size > MAX_BYTES) return setProblem("Choose an image of at most 5 MiB.");

    const result = await upload(
      { input: { tenantId: props.tenantId, kind: props.kind, image: file } },
      {
        // A multipart request is a "simple" request to a browser: yoga's CSRF prevention
        // wants this header on it. Fetch options given here replace the client's, so the
        // cookie is asked for again.
        fetchOptions: { credentials: "include", headers: { "x-graphql-yoga-csrf": "1" } },
      },
    );
    if (inputRef.current) inputRef.current.value = "";
    const outcome = result.data?.uploadBrandingImage;
    if (result.error || !outcome) {
      setProblem(result.error ? errorsFromTransport(result.error).form : "No answer from the API.");
      return;
    }
    if (outcome.__typename !== "UploadBrandingImagePayload") {
      const errors = errorsFromResult(outcome, FIELDS);
      setProblem(errors.fields.image ?? errors.form);
      return;
    }
    setNotice(`${props.label} uploaded.`);
  }

  async function removeImage() {
    setProblem(null);
    const result = await remove({ input: { tenantId: props.tenantId, kind: props.kind } });
    const failed = actionProblem(result.error, result.data?.removeBrandingImage, "RemoveBrandingImagePayload");
    if (failed) return setProblem(failed);
    setNotice(`${props.label} removed.`);
  }

  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        ref={inputRef}
        id={id}
        type="file"
        accept="image/png,image/jpeg"
        disabled={!props.canEdit || uploading}
        aria-invalid={problem ? true : undefined}
        aria-describedby={`${id}-hint${problem ? ` ${id}-error` : ""}`}
        onChange={choose}
      />
      <p id={`${id}-hint`} className="field-hint">
        {props.current ? `Current: ${props.current.width} × ${props.current.height} pixels. ` : "None yet. "}
        {props.hint}
      </p>
      {problem && (
        <p id={`${id}-error`} className="field-error">
          {problem}
        </p>
      )}
      <p className="form-success" role="status">
        {uploading ? "Uploading…" : notice}
      </p>
      {props.current && props.canEdit && (
        <button type="button" className="button-secondary button-small field-action" onClick={removeImage} disabled={removing}>
          Remove {props.label.toLowerCase()}
        </button>
      )}
    </div>
  );
}
