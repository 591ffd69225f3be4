"""Type stubs of spinfit's Python package."""
from typing import Any, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

__version__: str

ArrayLike = Union[npt.ArrayLike, Sequence[float]]
Time = Union[float, str]
Field = Union[float, str]

class FitError(RuntimeError): ...

class Param:
    name: str
    value: float
    stderr: Optional[float]
    unit: str
    vary: bool
    min: Optional[float]
    max: Optional[float]

class Quantity:
    value: float
    stderr: Optional[float]
    unit: str
    def __float__(self) -> float: ...

class Component:
    omega: Quantity
    t2: Quantity
    g: Quantity
    amplitude: Quantity

class Lifetime:
    tau: Quantity
    rate: Quantity
    amplitude: Quantity

Setting = Union[str, float, int, bool]

class FitResult:
    params: dict[str, Param]
    results: dict[str, Any]
    components: list[Component]
    lifetimes: list[Lifetime]
    kind: str
    success: bool
    delay: np.ndarray
    data: np.ndarray
    best_fit: np.ndarray
    residual: np.ndarray
    def to_dict(self) -> dict[str, Any]: ...
    def report(self) -> str: ...
    def _repr_html_(self) -> str: ...
    def plot(self, ax: Any = ...) -> Any: ...

class Scan:
    source: str
    kind: str
    signal_name: str
    delay: np.ndarray
    signal: np.ndarray
    sc: Optional[np.ndarray]
    cc: Optional[np.ndarray]
    metadata: dict[str, str]
    def fit(self, **options: Any) -> FitResult: ...

def read_scans(path: Any, *, kind: str = ..., delay: Optional[str] = ..., signal: Optional[str] = ...,
               sc: Optional[str] = ..., cc: Optional[str] = ..., delay_unit: Optional[str] = ...,
               band: Optional[str] = ..., layout: Optional[str] = ...) -> list[Scan]: ...
def read_scan(path: Any, **options: Any) -> Scan: ...
def fit_tr(delay_ps: ArrayLike, sc: Optional[ArrayLike] = ..., cc: Optional[ArrayLike] = ...,
           signal: Optional[ArrayLike] = ..., *, exponentials: int = ...,
           fit_from_ps: Optional[Time] = ..., fit_to_ps: Optional[Time] = ...,
           **options: Setting) -> FitResult: ...
def fit_trfe(delay_ps: ArrayLike, signal: ArrayLike, field_T: Optional[Field], *, components: Union[str, int] = ...,
             fit_from_ps: Optional[Time] = ..., fit_to_ps: Optional[Time] = ...,
             **options: Setting) -> FitResult: ...
class GlobalResult:
    lifetimes: list[dict[str, Any]]
    rates: list[dict[str, Any]]
    chirp: list[dict[str, Any]]
    t0: dict[str, Any]
    irf_fwhm: dict[str, Any]
    columns: list[str]
    amplitude: Any
    amplitude_stderr: Any
    eas: Any
    eas_stderr: Any
    fitted: Any
    residual: Any
    status: str
    notes: list[str]
    def to_dict(self) -> dict[str, Any]: ...
    def to_xarray(self) -> Any: ...

def fit_global(data: Any, delay_ps: Any, wavelength_nm: Any, *, components: int | None = ...,
               max_components: int = ..., chirp_order: int = ..., artefact: bool = ...,
               step: bool = ..., offset: bool = ..., lambda_ref_nm: float | None = ...) -> GlobalResult: ...

def fit_files(paths: Any, *, kind: str = ...,
              **options: Setting) -> tuple[list[FitResult], list[tuple[str, str]]]: ...
def gfactor(paths: Any, *, min_field: Field = ..., larger: str = ..., single: str = ...,
            global_fit: bool = ..., **options: Setting) -> dict[str, Any]: ...
def gspectrum(results: Any, *, sign_e: str = ..., sign_h: str = ..., delta: Optional[float] = ...,
              p2_m0: Optional[float] = ..., dg_e: Optional[float] = ...) -> dict[str, Any]: ...
def session(path: Any, out: Any = ..., *, global_fit: bool = ..., follow_symlinks: bool = ...,
            figures: str = ..., **options: Setting) -> dict[str, Any]: ...
def append(dataset: Any, fit: FitResult, compound: str, *, date: Optional[str] = ...,
           allow_synthetic: bool = ...) -> bool: ...
def ml_cv(data: Any, *, model: str = ..., cv: str = ..., target: str = ...,
          features: Optional[Union[str, Sequence[str]]] = ..., log_target: bool = ...,
          refit: bool = ..., cv_seed: Optional[int] = ...) -> dict[str, Any]: ...
def train(data: Any, out: Any, *, model: str = ..., target: str = ...,
          features: Optional[Union[str, Sequence[str]]] = ..., log_target: bool = ...) -> dict[str, Any]: ...
def predict(source: Any, candidates: Any, *, model: Optional[str] = ..., target: str = ...,
            features: Optional[Union[str, Sequence[str]]] = ..., log_target: bool = ...,
            members: int = ..., vary: Union[str, Sequence[str]] = ...) -> dict[str, Any]: ...
def screen(source: Any, candidates: Any, **options: Any) -> dict[str, Any]: ...
def explain(source: Any, *, model: Optional[str] = ..., target: str = ...,
            features: Optional[Union[str, Sequence[str]]] = ..., background: int = ...,
            background_seed: int = ...) -> dict[str, Any]: ...
def dataset_import(sheet: Any, out: Any) -> int: ...
def dataset_check(dataset: Any) -> list[dict[str, Any]]: ...
