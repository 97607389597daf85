//! The proptest strategies of [`CasePlan`]s: shapes and values of the inputs, and the
//! recursive [`Expr`] with its operands and options. Weights favour valid, varied graphs.

use super::{
    CasePlan, Expr, HelperPlan, InputPlan, Layout, MAX_POINTS, MaskPlan, Movement, Operand, PolygonApply, PolygonPlan,
    ReducePlan, RunStart, Scalar, StepPlan, StepSource, WindowKindPlan, WindowPlan,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use rumba::DType;
use rumba::dsl::Stat;

const EXTENTS: [usize; 7] = [1, 2, 3, 5, 7, 15, 17];

/// Numbers for scalar operands, fills and mask thresholds.
const NUMBERS: [f64; 16] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    2.0,
    3.0,
    7.0,
    255.0,
    65535.0,
    1e10,
    -1e-3,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e-310,
];

fn number() -> impl Strategy<Value = f64> + Clone {
    prop_oneof![3 => select(&NUMBERS[..]), 2 => -100.0..100.0f64]
}

fn finite_number() -> impl Strategy<Value = f64> + Clone {
    prop_oneof![
        select(&[0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e10, 1e-310][..]),
        -10.0..10.0f64
    ]
}

fn stat() -> impl Strategy<Value = Stat> + Clone {
    prop_oneof![
        select(
            &[
                Stat::Sum,
                Stat::Mean,
                Stat::Min,
                Stat::Max,
                Stat::Var,
                Stat::Std,
                Stat::Median
            ][..]
        ),
        prop_oneof![select(&[0.0, 50.0, 100.0][..]), 0.0..=100.0f64].prop_map(Stat::Percentile),
    ]
}

fn wild() -> impl Strategy<Value = bool> + Clone {
    prop::bool::weighted(0.05)
}

/// Up to [`MAX_POINTS`] elements: the largest extents shrink until they fit.
fn fit(mut shape: Vec<usize>) -> Vec<usize> {
    while shape.iter().product::<usize>() > MAX_POINTS {
        let i = (0..shape.len()).max_by_key(|&i| shape[i]).expect("rank ≥ 1");
        shape[i] = EXTENTS.iter().rev().copied().find(|&e| e < shape[i]).unwrap_or(1);
    }
    shape
}

fn shape() -> impl Strategy<Value = Vec<usize>> {
    let rank = prop_oneof![3 => 1usize..=3, 2 => Just(4usize)];
    rank.prop_flat_map(|r| vec(select(&EXTENTS[..]), r)).prop_map(fit)
}

/// The second input's shape: usually the first's trailing dims, some of them 1 (so it
/// broadcasts, including the (1, H, W, C) of a file reference), sometimes unrelated.
fn second_shape(first: Vec<usize>) -> impl Strategy<Value = Vec<usize>> {
    let rank = first.len();
    let related = (1..=rank, any::<u8>()).prop_map(move |(r, ones)| {
        let tail = &first[rank - r..];
        tail.iter()
            .enumerate()
            .map(|(i, &n)| if ones & (1 << i) != 0 { 1 } else { n })
            .collect::<Vec<_>>()
    });
    prop_oneof![4 => related, 1 => shape()]
}

fn element(dtype: DType) -> BoxedStrategy<f64> {
    const F32_EDGES: [f32; 13] = [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        0.0,
        f32::MIN_POSITIVE / 2.0,
        -f32::MIN_POSITIVE / 2.0,
        f32::MAX,
        f32::MIN,
        1e-30,
        1e30,
        1.0,
        0.5,
    ];
    const F64_EDGES: [f64; 13] = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        f64::MIN_POSITIVE / 2.0,
        -f64::MIN_POSITIVE / 2.0,
        f64::MAX,
        f64::MIN,
        1e-300,
        1e300,
        1.0,
        0.5,
    ];
    match dtype {
        DType::U8 => prop_oneof![1 => select(&[0.0, 1.0, 255.0][..]), 3 => any::<u8>().prop_map(f64::from)].boxed(),
        DType::U16 => prop_oneof![
            1 => select(&[0.0, 1.0, 65535.0][..]),
            2 => (0u16..300).prop_map(f64::from),
            2 => any::<u16>().prop_map(f64::from),
        ]
        .boxed(),
        DType::I32 => prop_oneof![
            1 => select(&[i32::MIN, i32::MAX, 0, -1, 1][..]).prop_map(f64::from),
            2 => (-300i32..300).prop_map(f64::from),
            2 => any::<i32>().prop_map(f64::from),
        ]
        .boxed(),
        DType::F32 => prop_oneof![
            2 => select(&F32_EDGES[..]).prop_map(f64::from),
            4 => (-1000.0f32..1000.0).prop_map(f64::from),
            1 => prop::num::f32::NORMAL.prop_map(f64::from),
            1 => Just(f64::from(f32::from_bits(1))),
        ]
        .boxed(),
        DType::F64 => prop_oneof![
            2 => select(&F64_EDGES[..]),
            4 => -1000.0f64..1000.0,
            1 => prop::num::f64::NORMAL,
            1 => select(vec![f64::from(f32::MIN_POSITIVE / 2.0), 1e-320]),
        ]
        .boxed(),
        DType::Bool => unreachable!("inputs are numeric"),
    }
}

fn layout(rank: usize) -> impl Strategy<Value = Layout> {
    let axis = move || prop::option::weighted(0.3, (0..rank as u8).boxed());
    (
        prop::bool::weighted(0.2),
        prop::option::weighted(0.3, any::<u32>()),
        axis(),
        axis(),
    )
        .prop_map(|(extra, permute, stride, reverse)| Layout {
            extra,
            permute,
            stride,
            reverse,
        })
}

fn input_plan(shape: Vec<usize>) -> impl Strategy<Value = InputPlan> {
    let rank = shape.len();
    let dtype = select(&[DType::U8, DType::U16, DType::I32, DType::F32, DType::F64][..]);
    (dtype, vec(prop::bool::weighted(0.3), rank), layout(rank), any::<u32>()).prop_flat_map(
        move |(dtype, free, layout, seed)| {
            let shape = shape.clone();
            vec(element(dtype), 1..12).prop_map(move |pool| InputPlan {
                dtype,
                shape: shape.clone(),
                free: free.clone(),
                layout,
                pool,
                seed,
            })
        },
    )
}

fn inputs() -> impl Strategy<Value = Vec<InputPlan>> {
    shape().prop_flat_map(|first| {
        let second = prop::option::weighted(0.5, second_shape(first.clone()).prop_flat_map(input_plan));
        (input_plan(first), second).prop_map(|(a, b)| std::iter::once(a).chain(b).collect())
    })
}

fn scalar() -> impl Strategy<Value = Scalar> + Clone {
    prop_oneof![
        3 => number().prop_map(Scalar::Const),
        1 => (number(), prop::option::weighted(0.5, number())).prop_map(|(default, run)| Scalar::Param { default, run }),
    ]
}

fn operand(inner: BoxedStrategy<Expr>) -> BoxedStrategy<Operand> {
    prop_oneof![
        2 => scalar().prop_map(Operand::Scalar),
        3 => inner.prop_map(|e| Operand::Expr(Box::new(e))),
    ]
    .boxed()
}

fn vertices() -> impl Strategy<Value = Vec<(u8, u8)>> + Clone {
    vec((any::<u8>(), any::<u8>()), 3..=5)
}

fn movement() -> BoxedStrategy<Movement> {
    let bound = || prop::option::weighted(0.7, any::<u8>());
    let run = prop_oneof![
        3 => Just(RunStart::Default),
        2 => any::<u8>().prop_map(RunStart::Other),
        1 => any::<u8>().prop_map(RunStart::Invalid),
    ];
    prop_oneof![
        4 => (any::<u8>(), bound(), bound(), select(&[-3i8, -2, -1, 1, 1, 2, 3][..]))
            .prop_map(|(axis, start, stop, step)| Movement::Slice { axis, start, stop, step }),
        2 => (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), any::<bool>(), run).prop_map(
            |(axis, len, step, start, from_end, run)| Movement::SliceAt { axis, len, step, start, from_end, run }
        ),
        2 => any::<u32>().prop_map(Movement::Permute),
        1 => any::<u8>().prop_map(Movement::Squeeze),
        1 => any::<u8>().prop_map(Movement::Expand),
        1 => any::<u32>().prop_map(Movement::BroadcastTo),
    ]
    .boxed()
}

fn mask() -> BoxedStrategy<MaskPlan> {
    prop_oneof![
        2 => (0u8..6, number()).prop_map(|(cmp, value)| MaskPlan::Compare { cmp, value }),
        1 => Just(MaskPlan::NotNan),
        1 => (0u8..6, number()).prop_map(|(cmp, value)| MaskPlan::Input { cmp, value }),
        1 => vertices().prop_map(MaskPlan::Polygon),
    ]
    .boxed()
}

fn reduce() -> BoxedStrategy<ReducePlan> {
    (
        stat(),
        wild(),
        any::<u8>(),
        any::<bool>(),
        any::<bool>(),
        prop::option::weighted(0.3, mask()),
        prop::option::weighted(0.2, stat()),
    )
        .prop_map(|(stat, wild, axes, keepdims, skip_nan, mask, sibling)| ReducePlan {
            stat,
            wild,
            axes,
            keepdims,
            skip_nan,
            mask,
            sibling,
        })
        .boxed()
}

fn window() -> BoxedStrategy<WindowPlan> {
    let kind = prop_oneof![
        4 => stat().prop_map(WindowKindPlan::Stat),
        1 => vec(finite_number(), 1..=5).prop_map(WindowKindPlan::Weighted),
    ];
    (
        kind,
        any::<u8>(),
        any::<u8>(),
        any::<bool>(),
        prop::option::weighted(0.2, stat()),
    )
        .prop_map(|(kind, axis, size, skip_nan, sibling)| WindowPlan {
            kind,
            axis,
            size,
            skip_nan,
            sibling,
        })
        .boxed()
}

fn step() -> BoxedStrategy<StepPlan> {
    let source = prop_oneof![
        (any::<u8>(), any::<u8>()).prop_map(|(b0, len)| StepSource::Range { b0, len }),
        (any::<u8>(), any::<u8>()).prop_map(|(window, lag)| StepSource::Sliding { window, lag }),
        Just(StepSource::File),
    ];
    (source, stat(), any::<bool>(), scalar())
        .prop_map(|(source, stat, skip_nan, amount)| StepPlan {
            source,
            stat,
            skip_nan,
            amount,
        })
        .boxed()
}

fn helper() -> BoxedStrategy<HelperPlan> {
    prop_oneof![
        2 => (any::<u8>(), any::<u8>(), stat()).prop_map(|(b0, len, stat)| HelperPlan::Range { b0, len, stat }),
        1 => (any::<u8>(), any::<u8>(), stat()).prop_map(|(window, lag, stat)| HelperPlan::Sliding { window, lag, stat }),
        3 => (prop::option::weighted(0.8, step()), prop::option::weighted(0.7, step()))
            .prop_map(|(subtract, divide)| HelperPlan::Pipeline { subtract, divide }),
        1 => (any::<bool>(), any::<u8>(), 0u8..4, any::<bool>()).prop_map(|(vertical, pos, halfwidth, frames)| {
            HelperPlan::Envelope { vertical, pos, halfwidth, frames }
        }),
        1 => (vertices(), wild()).prop_map(|(vertices, wild)| HelperPlan::Roi { vertices, wild }),
    ]
    .boxed()
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![3 => (0u8..2).prop_map(Expr::Input), 1 => any::<u8>().prop_map(Expr::Reuse)];
    leaf.prop_recursive(8, 256, 2, |inner| {
        let x = || inner.clone().prop_map(Box::new);
        let polygon = (
            vertices(),
            prop_oneof![
                operand(inner.clone()).prop_map(PolygonApply::Select),
                select(&[0.0, f64::NAN, 7.5][..]).prop_map(PolygonApply::Helper),
            ],
        )
            .prop_map(|(vertices, apply)| PolygonPlan { vertices, apply });
        prop_oneof![
            3 => (0u8..6, wild(), x()).prop_map(|(op, wild, x)| Expr::Unary { op, wild, x }).boxed(),
            4 => (0u8..6, any::<bool>(), x(), operand(inner.clone()))
                .prop_map(|(op, swap, x, rhs)| Expr::Binary { op, swap, x, rhs }).boxed(),
            2 => (0u8..7, x(), operand(inner.clone()), operand(inner.clone()))
                .prop_map(|(cmp, x, rhs, other)| Expr::Select { cmp, x, rhs, other }).boxed(),
            1 => ([prop::option::of(number()), prop::option::of(number()), prop::option::of(number())], x())
                .prop_map(|(values, x)| Expr::NanToNum { values, x }).boxed(),
            2 => (0u8..6, x()).prop_map(|(to, x)| Expr::Cast { to, x }).boxed(),
            5 => (movement(), x()).prop_map(|(m, x)| Expr::Move { m, x }).boxed(),
            4 => (reduce(), x()).prop_map(|(r, x)| Expr::Reduce { r, x }).boxed(),
            3 => (window(), x()).prop_map(|(w, x)| Expr::Window { w, x }).boxed(),
            1 => (polygon, x()).prop_map(|(p, x)| Expr::Polygon { p, x }).boxed(),
            2 => (helper(), x()).prop_map(|(h, x)| Expr::Helper { h, x }).boxed(),
        ]
    })
}

/// The strategy for whole cases.
pub fn case() -> impl Strategy<Value = CasePlan> {
    // Outputs first: proptest shrinks a tuple in order, and the expressions matter most.
    (vec(expr(), 1..=2), inputs()).prop_map(|(outputs, inputs)| CasePlan { inputs, outputs })
}
