// Pass: the three forms of a machine row, `EV => action -> ST`,
// `EV => action` (keeps the state) and `EV -> ST` (only moves), plus a
// row with neither.
use gaplic::prelude::*;

gobj! {
    struct Rows {
        calls: u32,
    }
    events {
        EV_GO,
        EV_STAY,
        EV_BACK,
        EV_NOTHING,
    }
    states { ST_A, ST_B }
    machine {
        ST_A {
            EV_GO => count -> ST_B,
            EV_STAY => count,
            EV_NOTHING,
        }
        ST_B { EV_BACK -> ST_A }
    }
}

impl Rows {
    fn count(&mut self, _cx: &mut Cx<Self>, _ev: &Event) -> Ret {
        self.calls += 1;
        Ok(Value::from(self.calls))
    }
}

fn main() {
    let mut m = Machine::<Rows>::new("rows", &kw! {}).unwrap();
    assert_eq!(m.state(), RowsState::ST_A);
    assert_eq!(
        m.inject(RowsEvent::EV_STAY, Kw::new()).unwrap(),
        Value::Int(1)
    );
    assert_eq!(m.state(), RowsState::ST_A);
    assert_eq!(
        m.inject(RowsEvent::EV_NOTHING, Kw::new()).unwrap(),
        Value::Null
    );
    assert_eq!(m.state(), RowsState::ST_A);
    assert_eq!(
        m.inject(RowsEvent::EV_GO, Kw::new()).unwrap(),
        Value::Int(2)
    );
    assert_eq!(m.state(), RowsState::ST_B);
    assert!(
        m.inject(RowsEvent::EV_GO, Kw::new())
            .unwrap_err()
            .is_not_accepted()
    );
    assert_eq!(
        m.inject(RowsEvent::EV_BACK, Kw::new()).unwrap(),
        Value::Null
    );
    assert_eq!(m.state(), RowsState::ST_A);
    assert_eq!(m.gobj().calls, 2);
    let rows = <Rows as Gclass>::META.rows();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].action(), Some("count"));
    assert_eq!(rows[0].next(), Some("ST_B"));
    assert_eq!(rows[1].next(), None);
    assert_eq!(rows[2].action(), None);
    assert_eq!(rows[3].action(), None);
    assert_eq!(rows[3].next(), Some("ST_A"));
}
