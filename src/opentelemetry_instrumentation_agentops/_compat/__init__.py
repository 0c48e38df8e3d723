"""The redirect of the real ``agentops`` package onto this engine, on top of everything else."""
