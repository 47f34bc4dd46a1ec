/**
 * Field errors as apimachinery's `field.Error` builds and prints them: `<field>: <body>` where
 * the body is the type's text (`Required value`, `Invalid value: "x"`, …), then `: <detail>`.
 */
import type { Status } from "../../api/index.js";
import { aggregateMessage, goQuote } from "../../gofmt/index.js";

export type FieldErrorType =
  | "FieldValueRequired" | "FieldValueInvalid" | "FieldValueNotSupported" | "FieldValueForbidden" | "FieldValueDuplicate"
  | "FieldValueTooLong" | "FieldValueTypeInvalid" | "FieldValueNotFound" | "FieldValueTooMany";

export interface FieldError {
  type: FieldErrorType;
  /** The field path, `spec.containers[0].image`. */
  field: string;
  /** The error body without the field, as in Status causes: `Required value`, `Invalid value: "Web": …`. */
  message: string;
}

/** How a bad value is printed: strings quoted, numbers and booleans as they are, null as null. */
function formatValue(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return goQuote(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

const withDetail = (body: string, detail?: string): string => (detail ? `${body}: ${detail}` : body);

export const required = (field: string, detail = ""): FieldError => ({ type: "FieldValueRequired", field, message: withDetail("Required value", detail) });
export const invalid = (field: string, value: unknown, detail: string): FieldError =>
  ({ type: "FieldValueInvalid", field, message: withDetail(`Invalid value: ${formatValue(value)}`, detail) });
export const notSupported = (field: string, value: unknown, valid: string[]): FieldError => ({
  type: "FieldValueNotSupported", field,
  message: withDetail(`Unsupported value: ${formatValue(value)}`, valid.length ? `supported values: ${valid.map((v) => JSON.stringify(v)).join(", ")}` : ""),
});
export const forbidden = (field: string, detail: string): FieldError => ({ type: "FieldValueForbidden", field, message: withDetail("Forbidden", detail) });
export const duplicate = (field: string, value: unknown): FieldError => ({ type: "FieldValueDuplicate", field, message: `Duplicate value: ${formatValue(value)}` });
export const notFound = (field: string, value: unknown): FieldError => ({ type: "FieldValueNotFound", field, message: `Not found: ${formatValue(value)}` });
export const tooLong = (field: string, max: number): FieldError =>
  ({ type: "FieldValueTooLong", field, message: `Too long: may not be more than ${max} ${max === 1 ? "byte" : "bytes"}` });

/** One error as `field.Error.Error()` prints it. */
export function fieldErrorString(e: FieldError): string {
  return e.field ? `${e.field}: ${e.message}` : e.message;
}

/** The Status message of a 422: `Pod "web" is invalid: <one>` or `… is invalid: [<a>, <b>]` (duplicates once). */
export function invalidMessage(kind: string, name: string, errs: FieldError[]): string {
  if (errs.length === 0) return `${kind} ${goQuote(name)} is invalid`;
  return `${kind} ${goQuote(name)} is invalid: ${aggregateMessage(errs.map(fieldErrorString))}`;
}

/** The whole 422 Invalid Status (apierrors.NewInvalid). `group` is "" for core kinds; kind then reads `Lease.coordination.k8s.io`. */
export function invalidStatus(kind: string, name: string, errs: FieldError[], group = ""): Status {
  const qualified = group ? `${kind}.${group}` : kind;
  return {
    kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure",
    message: invalidMessage(qualified, name, errs), reason: "Invalid",
    details: { name, ...(group ? { group } : {}), kind, causes: errs.map((e) => ({ reason: e.type, message: e.message, field: e.field })) },
    code: 422,
  };
}
