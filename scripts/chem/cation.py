"""Quantum-chemical descriptors of one organic cation, for spinfit.

Reads one JSON request on stdin, writes one JSON answer on stdout:
  {"smiles": "C[NH3+]", "rule": "lowest" | "extended", "conformers": 30,
   "spread": 3, "window_kcal": 3.0, "seed": 42, "basis": "6-311G**"}

Recipe (how the Chem. Sci. 2025 sheet was built, the physics notes, s. 5 "How the paper's descriptors are built"):
- RDKit: explicit hydrogens, `conformers` ETKDG embeddings, each optimised
  with the MMFF94 force field; duplicates (RMSD < 0.1 A) and mirror images
  (equal energy and extent, so equal descriptors) dropped.
- The conformer is chosen by `rule`: "lowest" = lowest MMFF energy;
  "extended" = the largest longest-interatomic-distance of all distinct
  conformers (the chain stretched out, as in a layered lattice); its MMFF
  energy above the lowest is reported.
- PySCF: restricted Hartree-Fock single point, `basis`, charge from the
  SMILES, geometry moved to its centre of mass. HOMO and LUMO in eV; dipole
  about the centre of mass in Debye (a cation's dipole depends on the
  origin); isotropic polarisability (trace / 3) from coupled-perturbed HF
  (pyscf-properties) in bohr^3.
- The geometry (A, centred on the centre of mass) is returned; spinfit
  computes the organic radius from it (half the longest interatomic
  distance, hydrogens included; the "extended" rule here uses the same
  measure to choose).
- The same single point on up to `spread` distinct conformers within the
  window (the chosen one first) gives the spread of each descriptor.
Nothing here is fitted to the sheet; the constants are the packages'.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
from rdkit import Chem  # noqa: E402
from rdkit.Chem import AllChem, Descriptors, rdMolAlign  # noqa: E402
from rdkit.Chem.rdMolDescriptors import CalcMolFormula  # noqa: E402

HARTREE_EV = 27.211386245988  # CODATA 2018
VERSION = 2


def fail(msg):
    json.dump({"error": msg}, sys.stdout)
    sys.stdout.write("\n")
    sys.exit(2)


def conformers(mol, n, seed):
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    ids = list(AllChem.EmbedMultipleConfs(mol, numConfs=n, params=params))
    if not ids:
        fail("RDKit could not embed a 3-D geometry")
    if not AllChem.MMFFHasAllMoleculeParams(mol):
        fail("no MMFF94 parameters for this cation")
    res = AllChem.MMFFOptimizeMoleculeConfs(mol, maxIters=2000)
    energies = [e for (_, e) in res]
    order = sorted(range(len(ids)), key=lambda k: energies[k])
    kept = []
    heavy = Chem.RemoveHs(mol)

    def same(j, k):
        # the same geometry, or its mirror image (equal energy and extent)
        if rdMolAlign.GetBestRMS(heavy, heavy, ids[j], ids[k]) < 0.1:
            return True
        rj, rk = radius(coords(mol, ids[j])[1]), radius(coords(mol, ids[k])[1])
        return abs(energies[j] - energies[k]) < 1e-3 and abs(rj - rk) < 1e-3

    for k in order:
        if not any(same(j, k) for j in kept):
            kept.append(k)
    return [(ids[k], energies[k]) for k in kept]


def coords(mol, cid):
    pos = mol.GetConformer(cid).GetPositions()
    sym = [a.GetSymbol() for a in mol.GetAtoms()]
    mass = np.array([a.GetMass() for a in mol.GetAtoms()])
    com = (mass[:, None] * pos).sum(0) / mass.sum()
    return sym, pos - com


def radius(pos):
    d = np.linalg.norm(pos[:, None, :] - pos[None, :, :], axis=-1)
    return 0.5 * d.max()


def single_point(sym, pos, charge, basis):
    from pyscf import gto, scf
    from pyscf.prop.polarizability.rhf import Polarizability

    mol = gto.M(
        atom=[(s, tuple(p)) for s, p in zip(sym, pos)],
        basis=basis,
        charge=charge,
        spin=0,
        unit="Angstrom",
        verbose=0,
    )
    mf = scf.RHF(mol)
    mf.conv_tol = 1e-9
    mf.kernel()
    if not mf.converged:
        fail("Hartree-Fock did not converge")
    nocc = int(np.count_nonzero(mf.mo_occ > 0))
    homo, lumo = mf.mo_energy[nocc - 1], mf.mo_energy[nocc]
    # the geometry is centred on its centre of mass: the origin is the COM
    mu = mf.dip_moment(unit="Debye", verbose=0)
    alpha = Polarizability(mf).polarizability()
    return {
        "homo_eV": homo * HARTREE_EV,
        "lumo_eV": lumo * HARTREE_EV,
        "dipole_D": float(np.linalg.norm(mu)),
        "polarisability_bohr3": float(np.trace(alpha) / 3.0),
        "scf_energy_hartree": float(mf.e_tot),
    }


def main():
    req = json.load(sys.stdin)
    smiles = req["smiles"]
    rule = req.get("rule", "lowest")
    if rule not in ("lowest", "extended"):
        fail(f"rule `{rule}`: expected lowest or extended")
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        fail(f"RDKit cannot read the SMILES `{smiles}`")
    charge = Chem.GetFormalCharge(mol)
    if charge <= 0:
        fail(f"`{smiles}` has formal charge {charge}: an A-site cation is expected (e.g. C[NH3+])")
    mol = Chem.AddHs(mol)
    confs = conformers(mol, int(req.get("conformers", 30)), int(req.get("seed", 42)))
    e0 = confs[0][1]
    window = [(cid, e) for cid, e in confs if e - e0 <= float(req.get("window_kcal", 3.0))]
    if rule == "lowest":
        chosen = window[0]
    else:
        chosen = max(confs, key=lambda c: radius(coords(mol, c[0])[1]))
    basis = req.get("basis", "6-311G**")
    # the chosen conformer first, then up to `spread` - 1 others of the window
    others = [c for c in window if c[0] != chosen[0]][: max(int(req.get("spread", 3)) - 1, 0)]
    results = []
    for cid, e in [chosen] + others:
        sym, pos = coords(mol, cid)
        sp = single_point(sym, pos, charge, basis)
        sp["mmff_kcal_above_lowest"] = e - e0
        sp["geometry"] = [[s_, float(x), float(y), float(z)] for s_, (x, y, z) in zip(sym, pos)]
        results.append(sp)
    out = {
        "helper_version": VERSION,
        "smiles": smiles,
        "canonical_smiles": Chem.MolToSmiles(Chem.RemoveHs(mol)),
        "formula": CalcMolFormula(mol),
        "charge": charge,
        "mw_rdkit": Descriptors.MolWt(mol),
        "settings": {
            "rule": rule,
            "basis": basis,
            "method": "RHF",
            "force_field": "MMFF94",
            "conformers_embedded": int(req.get("conformers", 30)),
            "window_kcal": float(req.get("window_kcal", 3.0)),
            "seed": int(req.get("seed", 42)),
        },
        "distinct_conformers": len(confs),
        "in_window": len(window),
        "conformers": results,
        "packages": {
            "rdkit": __import__("rdkit").__version__,
            "pyscf": __import__("pyscf").__version__,
        },
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
