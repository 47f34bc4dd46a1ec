/**
 * Validation before anything is stored, with kube-apiserver's field paths and messages, and
 * unknown-field detection for fieldValidation.
 */
import type { KubeObject, Pod } from "../../api/index.js";
import type { FieldError } from "./errors.js";
import {
  validateConfigMap, validateConfigMapUpdate, validateEvent, validateLease, validateNamespace, validateNode, validateSecret,
  validateSecretUpdate, validateServiceAccount,
} from "./others.js";
import { validatePodCreate, validatePodStatusUpdate, validatePodUpdate } from "./pod.js";
import { validateObjectMetaUpdate } from "./meta.js";
import { invalid } from "./errors.js";
import { isDNS1123Subdomain } from "./names.js";

export type { FieldError, FieldErrorType } from "./errors.js";
export { invalidMessage, invalidStatus, fieldErrorString } from "./errors.js";
export { unknownFields, strictDecodingError, unknownFieldWarnings } from "./unknown.js";
export { decodeTypeError, goFormat } from "./types.js";
export { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from "./names.js";

type Obj = KubeObject & Record<string, unknown>;
const CREATE: Record<string, (o: Obj) => FieldError[]> = {
  pods: (o) => validatePodCreate(o as unknown as Pod),
  secrets: validateSecret,
  configmaps: validateConfigMap,
  namespaces: validateNamespace,
  nodes: validateNode,
  serviceaccounts: validateServiceAccount,
  events: validateEvent,
  leases: validateLease,
};

/**
 * The errors of `obj`, a `resource` object (plural: `pods`), after defaulting: a create when
 * `old` is undefined, else an update of `old`; `subresource` "status" checks a status write,
 * "binding" a pod's binding to a node (pass the subresource of every write).
 * Empty when it is valid.
 */
export function validateObject(resource: string, obj: KubeObject, old?: KubeObject, subresource?: string): FieldError[] {
  const o = obj as Obj;
  if (old === undefined) return (CREATE[resource] ?? (() => []))(o);
  if (subresource === "status") {
    if (resource === "pods") return validatePodStatusUpdate(obj as Pod, old as Pod);
    return validateObjectMetaUpdate(obj.metadata, old.metadata);
  }
  if (subresource === "binding" && resource === "pods") {
    // A binding only sets spec.nodeName (the registry's assignPod), past the pod update rules.
    const errs = validateObjectMetaUpdate(obj.metadata, old.metadata);
    const node = (obj as Pod).spec?.nodeName ?? "";
    for (const m of isDNS1123Subdomain(node)) errs.push(invalid("target.name", node, m));
    return errs;
  }
  switch (resource) {
    case "pods": return validatePodUpdate(obj as Pod, old as Pod);
    case "secrets": return validateSecretUpdate(o, old as Obj);
    case "configmaps": return validateConfigMapUpdate(o, old as Obj);
    default: return [...validateObjectMetaUpdate(obj.metadata, old.metadata), ...(CREATE[resource] ?? (() => []))(o)];
  }
}
