//! The README's DSL example: background subtraction built with the DSL, run on a small
//! synthetic stack. `cargo run --example dsl`.

use rumba::dsl::{Builder, Stat, Step};
use rumba::{DType, Options};

fn main() -> Result<(), rumba::Error> {
    let b = Builder::new();
    let x = b.input("x", DType::U8, [None, None, None, Some(1)]);
    let amount = b.param("amount", Some(1.0));
    let out = x.pipeline(Some(Step::range([0, 9], Stat::Mean).amount(&amount)), None);
    let bg = x.range_reference([0, 9], Stat::Mean).label("background");
    let by_hand = &x - &(&bg * &amount);
    let graph = b.build([("out", &out), ("by_hand", &by_hand)])?;
    println!("{graph}");

    let stack = rumba::synthetic::stack(DType::U8, &[16, 64, 64, 1], 0);
    let exe = rumba::compile(&graph, &rumba::input_specs(&[("x", stack.view())]), &Options::default())?;
    let outputs = exe.run(&[("x", stack.view())], &Default::default())?;
    for (name, array) in &outputs {
        let values = array.to_f64_vec();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        println!("{name}: {} {:?}, mean {mean:.4}", array.dtype(), array.shape());
    }
    assert_eq!(
        outputs[0].1, outputs[1].1,
        "the helper and the hand-built pipeline agree"
    );
    Ok(())
}
