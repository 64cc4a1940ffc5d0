"""Evol-Instruct operators (group `evolution`, multi-select): in-depth and in-breadth rewrites."""
