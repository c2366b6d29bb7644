/** The parts of an OCI image config (`config` object) that `run` uses. */
export interface ImageConfigLike {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
}
