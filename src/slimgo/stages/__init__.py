"""`slimgo build` as stages with typed inputs and outputs, composed by `pipeline.build`:

plan(request) → BuildPlan · compile(plan) → binaries · [post-compile transforms] · inspect(binary) →
BinaryFacts · assemble(plan, facts, base) → Image | Index · publish(artifact, sinks).

`compare` reuses compile's building blocks, inspect and the assembler; no stage imports a command.
"""
