"""生态环境质量指数 EI: methods as data files, computation from an indicator table, derivation
of that table from geodata, stored assessment runs, ecological-land change clues."""
