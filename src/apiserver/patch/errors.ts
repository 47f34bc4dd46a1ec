/**
 * A patch that cannot be applied. `status` is the HTTP code kube-apiserver answers with:
 * 400 (BadRequest) for a patch it cannot read, 422 for one that does not fit the object.
 */
import { InvalidArgumentError } from "../../errdefs/index.js";

export class PatchError extends InvalidArgumentError {
  readonly status: 400 | 422;
  constructor(message: string, status: 400 | 422 = 422, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}
