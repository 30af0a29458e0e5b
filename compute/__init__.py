"""Pure engines, one subpackage each: `step(state, batch) -> (state, outputs)`, no I/O, no clock.

`flow` is the options-flow engine; `calendar` is the New York trading calendar the engines
share. Imports only `schemas` and the standard library (import-linter keeps it so).
"""
