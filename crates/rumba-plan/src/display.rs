//! `explain`: a plan as readable text — each kernel's fused graph nodes, loop nest and tiling,
//! reductions, bytes read and written, and which buffers are materialised — and [`to_dot`].

use crate::plan::{Accumulate, Affine, Buffer, Expr, IndexMap, Kernel, ParamSource, Plan, Role};
use std::fmt::{self, Write};

fn buffer_name(plan: &Plan, id: crate::BufferId) -> String {
    match &plan.buffer(id).role {
        Role::Input { name } => format!("in:{name}"),
        Role::Output { name } => format!("out:{name}"),
        Role::Temp => format!("tmp{}", id.0),
        Role::Const { .. } => format!("const{}", id.0),
    }
}

fn affine(a: &Affine, plan: &Plan) -> String {
    let mut s = String::new();
    for (axis, &c) in a.coefs.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let sign = if c < 0 {
            "-"
        } else if s.is_empty() {
            ""
        } else {
            "+"
        };
        let mag = c.unsigned_abs();
        let _ = if mag == 1 {
            write!(s, "{sign}i{axis}")
        } else {
            write!(s, "{sign}{mag}·i{axis}")
        };
    }
    for &(p, c) in &a.params {
        let name = match &plan.params[p.0 as usize] {
            ParamSource::Named { name, .. } | ParamSource::SliceStart { name, .. } => name.clone(),
        };
        let sign = if c < 0 {
            "-"
        } else if s.is_empty() {
            ""
        } else {
            "+"
        };
        let _ = if c.abs() == 1 {
            write!(s, "{sign}${name}")
        } else {
            write!(s, "{sign}{}·${name}", c.abs())
        };
    }
    if a.offset != 0 || s.is_empty() {
        let _ = if s.is_empty() {
            write!(s, "{}", a.offset)
        } else {
            write!(s, "{:+}", a.offset)
        };
    }
    s
}

fn map(m: &IndexMap, plan: &Plan) -> String {
    m.dims.iter().map(|a| affine(a, plan)).collect::<Vec<_>>().join(", ")
}

fn mb(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
    } else if bytes >= 1 << 10 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

fn expr(e: &Expr, plan: &Plan) -> String {
    match e {
        Expr::Load { load } => format!("load {load}"),
        Expr::Param { param } => match &plan.params[param.0 as usize] {
            ParamSource::Named { name, .. } | ParamSource::SliceStart { name, .. } => format!("param ${name}"),
        },
        Expr::Const { value } => format!("const {}", value.0),
        Expr::Unary { op, x } => format!("{op:?}(e{})", x.0).to_lowercase(),
        Expr::Binary { op, a, b } => format!("{}(e{}, e{})", format!("{op:?}").to_lowercase(), a.0, b.0),
        Expr::Select { cond, a, b } => format!("select(e{}, e{}, e{})", cond.0, a.0, b.0),
        Expr::NanToNum { x, nan, posinf, neginf } => {
            format!("nan_to_num(e{}, {}, {}, {})", x.0, nan.0, posinf.0, neginf.0)
        }
        Expr::Cast { x } => format!("cast(e{})", x.0),
        Expr::InSpans { table, row, col } => {
            format!(
                "in_polygon(spans{table}, row {}, col {})",
                affine(row, plan),
                affine(col, plan)
            )
        }
        Expr::Acc { reduction } => format!("acc r{reduction}"),
    }
}

/// Writes one kernel.
fn kernel(f: &mut fmt::Formatter<'_>, plan: &Plan, k: &Kernel) -> fmt::Result {
    writeln!(f, "kernel {}: {} graph nodes fused", k.name, k.fused.len())?;
    writeln!(f, "  fused: {}", k.fused.join(", "))?;
    let domain: Vec<String> = k
        .domain
        .iter()
        .enumerate()
        .map(|(i, a)| format!("i{i}<{}{}", a.extent, if a.reduced { " reduced" } else { "" }))
        .collect();
    writeln!(f, "  loop nest (outer → inner): {}", domain.join(", "))?;
    if let Some(r) = &k.running {
        let algorithms: Vec<String> = (0..k.reductions.len())
            .filter_map(|i| k.window_spec(i))
            .map(|s| s.algorithm().to_string())
            .collect();
        let restart = r.restart.map_or("rebuilt where a sweep starts".to_owned(), |p| {
            format!("rebuilt every {p} outputs")
        });
        writeln!(
            f,
            "  running window along i{} ({restart}; {})",
            r.axis,
            algorithms.join(", ")
        )?;
    }
    match k.schedule.tile_axis {
        Some(t) => writeln!(
            f,
            "  tiles: axis i{t}, {} per tile, {} tiles",
            k.schedule.tile_len,
            k.tiles()
        )?,
        None => writeln!(f, "  tiles: 1 (no parallel axis)")?,
    }
    for (i, l) in k.loads.iter().enumerate() {
        let b: &Buffer = plan.buffer(l.buffer);
        writeln!(
            f,
            "  load {i}: {}[{}] {} {:?}",
            buffer_name(plan, l.buffer),
            map(&l.map, plan),
            b.dtype,
            b.shape
        )?;
    }
    for (i, e) in k.exprs.iter().enumerate() {
        writeln!(f, "  e{i} = {} : {}", expr(&e.expr, plan), e.dtype)?;
    }
    for (i, r) in k.reductions.iter().enumerate() {
        let kind = match &r.kind {
            Accumulate::Stat(s) => s.to_string(),
            Accumulate::Weighted { weight } => format!("weighted(w = e{})", weight.0),
        };
        let mask = r.mask.map(|m| format!(" where e{}", m.0)).unwrap_or_default();
        let skip = if r.skip_nan { " skip_nan" } else { "" };
        writeln!(f, "  r{i} = {kind}(e{}){mask}{skip} : {}", r.value.0, r.dtype)?;
    }
    for s in &k.stores {
        writeln!(
            f,
            "  store {}[{}] = e{}",
            buffer_name(plan, s.buffer),
            map(&s.map, plan),
            s.value.0
        )?;
    }
    writeln!(
        f,
        "  traffic: reads {}, writes {}",
        mb(plan.bytes_read(k)),
        mb(plan.bytes_written(k))
    )
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let temps: Vec<String> = self
            .buffers
            .iter()
            .enumerate()
            .filter(|(_, b)| matches!(b.role, Role::Temp))
            .map(|(i, b)| format!("tmp{i} {} {:?} ({})", b.dtype, b.shape, mb(b.bytes())))
            .collect();
        writeln!(
            f,
            "plan: {} kernels; materialised intermediates: {}",
            self.kernels.len(),
            if temps.is_empty() {
                "none".to_owned()
            } else {
                temps.join(", ")
            }
        )?;
        for k in &self.kernels {
            kernel(f, self, k)?;
        }
        Ok(())
    }
}

/// The plan in Graphviz DOT: kernels as boxes, buffers as ellipses, loads and stores as edges.
#[must_use]
pub fn to_dot(plan: &Plan) -> String {
    let mut s = String::from("digraph plan {\n  rankdir=LR;\n");
    for (i, b) in plan.buffers.iter().enumerate() {
        let name = buffer_name(plan, crate::BufferId(i as u32));
        let _ = writeln!(
            s,
            "  b{i} [shape=ellipse, label=\"{name}\\n{} {:?}\"];",
            b.dtype, b.shape
        );
    }
    for (i, k) in plan.kernels.iter().enumerate() {
        let _ = writeln!(
            s,
            "  k{i} [shape=box, label=\"{}\\n{} nodes, {} tiles\"];",
            k.name,
            k.fused.len(),
            k.tiles()
        );
        let mut read: Vec<u32> = k.loads.iter().map(|l| l.buffer.0).collect();
        read.sort_unstable();
        read.dedup();
        for b in read {
            let _ = writeln!(s, "  b{b} -> k{i};");
        }
        for st in &k.stores {
            let _ = writeln!(s, "  k{i} -> b{};", st.buffer.0);
        }
    }
    s.push_str("}\n");
    s
}
